package build.hearth.core.sandbox;

import build.hearth.core.config.SandboxConfig;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * What a worker's sandbox does on this machine, found when the worker starts: the parts the kernel
 * allowed, those it refused and why, the cgroup version used for limits, and who actions run as.
 * Shown in the worker's start log, {@code hearth admin status} and {@code /admin}. Immutable.
 *
 * @param mode the configured mode
 * @param available the parts in force
 * @param refused each part the kernel (or a missing program) refused, with the reason
 * @param cgroups how limits are enforced: {@code "v1"}, {@code "v2"} or {@code "none"}
 * @param actionUser who actions run as, such as {@code "nobody (65534:65534)"}, {@code "user
 *     namespace of worker (1000)"} or {@code "the worker's own user (root)"}
 */
public record SandboxCapabilities(
    SandboxConfig.Mode mode,
    Set<Part> available,
    Map<Part, String> refused,
    String cgroups,
    String actionUser) {

  /** One part of the sandbox. */
  public enum Part {
    /** Its own mount namespace: the exec root, read-only system directories, a private /tmp. */
    MOUNT("mount"),
    /** Its own process namespace: everything the action started ends with it. */
    PID("pid"),
    IPC("ipc"),
    UTS("uts"),
    /** Its own network namespace with only a loopback interface. */
    NETWORK("network"),
    /** Another user than the worker's (root workers) or a user namespace (others). */
    USER("user"),
    /** A cgroup memory limit per action. */
    MEMORY("memory"),
    /** A cgroup process limit per action. */
    PIDS("pids");

    private final String label;

    Part(String label) {
      this.label = label;
    }

    /** The name in logs, status and config messages. */
    public String label() {
      return label;
    }
  }

  public SandboxCapabilities {
    Objects.requireNonNull(mode, "mode");
    available =
        available.isEmpty()
            ? Collections.unmodifiableSet(EnumSet.noneOf(Part.class))
            : Collections.unmodifiableSet(EnumSet.copyOf(available));
    refused = Collections.unmodifiableMap(new LinkedHashMap<>(refused));
    Objects.requireNonNull(cgroups, "cgroups");
    Objects.requireNonNull(actionUser, "actionUser");
  }

  /** A worker whose sandbox is off: nothing available, nothing refused. */
  public static SandboxCapabilities off(String actionUser) {
    return new SandboxCapabilities(SandboxConfig.Mode.OFF, Set.of(), Map.of(), "none", actionUser);
  }

  /** Whether {@code part} is in force. */
  public boolean has(Part part) {
    return available.contains(part);
  }
}
