/**
 * An example of Hearth embedded in a Java program: remote execution with persistent javac workers
 * in the same process, through the public API alone.
 */
package build.hearth.examples.embedded;
