/**
 * Confines the processes a worker starts: Linux namespaces through bubblewrap, another user, and
 * cgroup limits. Used by the worker's runners; see docs/sandbox.md.
 */
package build.hearth.core.sandbox;
