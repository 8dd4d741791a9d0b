/**
 * Helpers that several packages of the engine share and that are not part of Hearth's API: no
 * compatibility promise, and left out of the module's exports.
 */
package build.hearth.core.internal;
