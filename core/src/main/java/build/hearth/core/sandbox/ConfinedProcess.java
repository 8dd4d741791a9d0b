package build.hearth.core.sandbox;

import build.hearth.core.config.SandboxConfig;
import build.hearth.core.internal.Sizes;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A process started by {@link Sandbox#launch}, with the cgroup it runs in (when the machine has
 * cgroups). Read {@link #limitMessage()} after the process ended, then {@link #close()}, which
 * kills whatever the action left and removes its cgroup. Thread-safe.
 */
public final class ConfinedProcess implements AutoCloseable {
  private final Process process;
  private final ActionCgroup cgroup;
  private final SandboxConfig config;
  private final String cgroupVersion;

  ConfinedProcess(
      Process process, ActionCgroup cgroup, SandboxConfig config, String cgroupVersion) {
    this.process = process;
    this.cgroup = cgroup;
    this.config = config;
    this.cgroupVersion = cgroupVersion;
  }

  /** The process: bwrap (or, unconfined, the command itself). */
  public Process process() {
    return process;
  }

  /**
   * What the limits did to the process, for a person: that its memory limit killed it, or that it
   * reached its process limit; empty when they did nothing (or there are none).
   */
  public Optional<String> limitMessage() {
    if (cgroup == null) {
      return Optional.empty();
    }
    return message(cgroup.verdict(), config, cgroupVersion);
  }

  static Optional<String> message(CgroupVerdict verdict, SandboxConfig config, String version) {
    List<String> parts = new ArrayList<>();
    if (verdict.oomKilled()) {
      String limit =
          verdict.memoryLimitBytes().isPresent()
              ? Sizes.binary(verdict.memoryLimitBytes().getAsLong())
              : "?";
      parts.add(
          "the command was killed by its memory limit of "
              + limit
              + " (cgroup "
              + version
              + " OOM kill); ask for more with the platform property "
              + SandboxProperties.MEMORY_LIMIT
              + (config.maxMemoryLimitBytes().isPresent()
                  ? " (this worker allows at most "
                      + Sizes.binary(config.maxMemoryLimitBytes().getAsLong())
                      + ")"
                  : ""));
    }
    if (verdict.forksRefused() > 0) {
      parts.add(
          "the command reached its process limit of "
              + verdict.processLimit()
              + " (the kernel refused "
              + verdict.forksRefused()
              + " new processes or threads); ask for more with the platform property "
              + SandboxProperties.PROCESS_LIMIT
              + (config.maxProcessLimit().isPresent()
                  ? " (this worker allows at most " + config.maxProcessLimit().getAsInt() + ")"
                  : ""));
    }
    return parts.isEmpty() ? Optional.empty() : Optional.of(String.join("; ", parts));
  }

  /** Kills what is left in the process's cgroup and removes it. Idempotent. */
  @Override
  public void close() {
    if (cgroup != null) {
      cgroup.close();
    }
  }
}
