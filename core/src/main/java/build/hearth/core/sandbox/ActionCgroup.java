package build.hearth.core.sandbox;

import java.nio.file.Path;
import java.util.List;

/**
 * One action's cgroup, made by {@link Cgroups#create}. The process that starts the action writes
 * its own pid into each of {@link #procsFiles()} before it runs anything, so every process the
 * action starts is counted and limited. (Interface fixed by the lead; implemented by the cgroup
 * helper.)
 *
 * <p>Thread-safe.
 */
interface ActionCgroup extends AutoCloseable {
  /** The {@code cgroup.procs} files to join: one under v2, one per controller under v1. */
  List<Path> procsFiles();

  /**
   * What the limits did to the action; call after its process ended and before {@link #close()}.
   */
  CgroupVerdict verdict();

  /**
   * Kills every process still in the cgroup, waits until it is empty (bounded), and removes it.
   * Idempotent; logs rather than throws.
   */
  @Override
  void close();
}
