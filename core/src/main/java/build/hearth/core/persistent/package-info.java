/**
 * Persistent workers: long-lived tool processes (javac, scalac, kotlinc) that serve many actions
 * through Bazel's worker protocol. {@link build.hearth.core.persistent.ToolKey} says which actions
 * may share a process, {@link build.hearth.core.persistent.ToolProcess} is one running process, and
 * the pool keeps them warm, bounded and retired on time.
 */
package build.hearth.core.persistent;
