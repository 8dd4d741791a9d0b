package build.hearth.core.sandbox;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * What one process may see and use: the one directory it may write (an action's exec root, a tool
 * process's own directory), the host paths it sees read-only besides the configured system
 * directories, whether it has the network, and its limits. Immutable.
 *
 * @param writable an absolute real path, bound at its own path read-write; every ancestor is an
 *     empty directory in the sandbox, so siblings stay invisible
 * @param readOnly further absolute paths bound read-only (a tool's files, {@code java.home}); those
 *     missing on the host are left out
 * @param network whether the process shares the host's network; otherwise it has a loopback
 *     interface of its own
 * @param memoryLimitBytes the cgroup memory limit; empty for none
 * @param processLimit the cgroup limit on processes and threads at once; empty for none
 */
public record Confinement(
    Path writable,
    List<Path> readOnly,
    boolean network,
    OptionalLong memoryLimitBytes,
    OptionalInt processLimit) {

  /**
   * Checks that nothing is null and that the paths are absolute.
   *
   * @throws IllegalArgumentException if a path is relative
   */
  public Confinement {
    Objects.requireNonNull(writable, "writable");
    readOnly = List.copyOf(readOnly);
    Objects.requireNonNull(memoryLimitBytes, "memoryLimitBytes");
    Objects.requireNonNull(processLimit, "processLimit");
    if (!writable.isAbsolute()) {
      throw new IllegalArgumentException("the writable directory must be absolute: " + writable);
    }
    for (Path path : readOnly) {
      if (!path.isAbsolute()) {
        throw new IllegalArgumentException("a read-only path must be absolute: " + path);
      }
    }
  }

  /** A process that writes only {@code directory}, sees nothing else of the host's, no network. */
  public static Confinement of(Path directory) {
    return new Confinement(directory, List.of(), false, OptionalLong.empty(), OptionalInt.empty());
  }

  /** This confinement with {@code paths} read-only besides. */
  public Confinement withReadOnly(List<Path> paths) {
    return new Confinement(writable, paths, network, memoryLimitBytes, processLimit);
  }
}
