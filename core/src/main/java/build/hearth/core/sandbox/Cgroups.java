package build.hearth.core.sandbox;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * The cgroups a worker puts each action in, for its memory and process limits: version 2 where the
 * unified hierarchy has the {@code memory} and {@code pids} controllers delegated to this process's
 * cgroup, version 1 where those hierarchies are mounted and writable, none otherwise. The worker's
 * cgroups are made under the cgroup this JVM runs in, named after the worker, so two workers (two
 * Hearths in one JVM included) never share one.
 *
 * <p>Thread-safe. (Interface fixed by the lead; implemented by the cgroup helper.)
 */
final class Cgroups implements AutoCloseable {
  private final String version;
  private final String memoryRefusal;
  private final String pidsRefusal;

  private Cgroups(String version, String memoryRefusal, String pidsRefusal) {
    this.version = version;
    this.memoryRefusal = memoryRefusal;
    this.pidsRefusal = pidsRefusal;
  }

  /**
   * Finds which cgroups this machine lets the worker use.
   *
   * @param mountRoot where cgroup file systems are mounted, {@code /sys/fs/cgroup}
   * @param selfCgroup this process's {@code /proc/self/cgroup}
   * @param workerName names the worker's parent cgroup ({@code hearth-<name>-<unique>})
   */
  static Cgroups probe(Path mountRoot, Path selfCgroup, String workerName) {
    return new Cgroups("none", "not implemented yet", "not implemented yet");
  }

  /** {@code "v1"}, {@code "v2"} or {@code "none"}. */
  String version() {
    return version;
  }

  /** Why memory limits cannot be enforced; empty when they can. */
  Optional<String> memoryRefusal() {
    return Optional.ofNullable(memoryRefusal);
  }

  /** Why process limits cannot be enforced; empty when they can. */
  Optional<String> pidsRefusal() {
    return Optional.ofNullable(pidsRefusal);
  }

  /**
   * Creates one action's cgroup (one per hierarchy under v1) with these limits; an empty limit is
   * no limit. Limits this machine cannot enforce are left out.
   *
   * @param name unique among the worker's running actions
   * @throws IOException if the cgroup cannot be made or a limit cannot be written
   */
  ActionCgroup create(String name, OptionalLong memoryBytes, OptionalInt processes)
      throws IOException {
    throw new IOException("cgroups are not implemented yet");
  }

  /** Removes the worker's parent cgroups, killing anything left in them. Idempotent. */
  @Override
  public void close() {}
}
