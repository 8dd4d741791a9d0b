/**
 * A javac persistent worker, as an example to copy: {@link build.hearth.examples.javac.Main}
 * compiles Java sources into a deterministic jar with the JDK's {@code javax.tools} compiler, once
 * per process or as a long-lived worker speaking Bazel's worker protocol (protobuf or JSON,
 * singleplex or multiplex, with cancellation). Everything but {@code Main} is package-private.
 */
package build.hearth.examples.javac;
