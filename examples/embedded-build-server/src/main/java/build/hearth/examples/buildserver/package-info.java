/**
 * A build server in miniature that embeds Hearth: it uploads a Java source tree to Hearth's CAS and
 * compiles it with persistent javac workers through the in-process scheduler, using only Hearth's
 * public Java API.
 */
package build.hearth.examples.buildserver;
