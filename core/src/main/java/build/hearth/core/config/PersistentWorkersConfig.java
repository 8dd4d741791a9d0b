package build.hearth.core.config;

import build.hearth.core.persistent.PoolLimits.AtCapacity;
import build.hearth.core.persistent.ToolProtocol;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;

/**
 * How a worker runs persistent-worker actions: the limits of its pool of tool processes, the tools
 * its configuration defines, and which tools or keys may run persistently at all. The {@code
 * persistentWorkers} object of a worker; every field is optional.
 *
 * <pre>{@code
 * "persistentWorkers": {
 *   "idleTimeout": "5m", "maxProcessesPerKey": 10, "maxProcesses": 32,
 *   "maxRequestsPerProcess": 1000, "memoryLimit": "2GiB", "atCapacity": "wait",
 *   "tools": {"javac": {"command": ["/opt/javac-worker/bin/javac-worker"], "multiplex": true}},
 *   "allow": {"tools": ["javac"]}
 * }
 * }</pre>
 *
 * @param enabled false runs every action as an ordinary process
 * @param idleTimeout how long a process may stay idle before it is retired
 * @param maxProcessesPerKey the most processes of one key alive at once
 * @param maxProcesses the most processes alive at once across all keys
 * @param maxRequestsPerProcess requests after which a process is retired; 0 for no limit
 * @param memoryLimitBytes resident bytes above which a process is retired after a request; 0 for no
 *     limit
 * @param atCapacity what an action does when its key is at its cap
 * @param shutdownGrace how long a retiring process gets after stdin is closed, and again after
 *     SIGTERM, before it is killed
 * @param maxMultiplexRequests the most requests in flight on one multiplex process
 * @param tools tools defined here, by the name actions give in {@code persistentWorkerTool}
 * @param allowedTools when present, only actions naming one of these tools run persistently
 * @param allowedKeys when present, only actions with one of these {@code persistentWorkerKey}s run
 *     persistently (a tool listed in {@code allowedTools} is enough on its own)
 * @param sandbox how each process is isolated from the rest of the machine
 */
public record PersistentWorkersConfig(
    boolean enabled,
    Duration idleTimeout,
    int maxProcessesPerKey,
    int maxProcesses,
    int maxRequestsPerProcess,
    long memoryLimitBytes,
    AtCapacity atCapacity,
    Duration shutdownGrace,
    int maxMultiplexRequests,
    Map<String, Tool> tools,
    Optional<Set<String>> allowedTools,
    Optional<Set<String>> allowedKeys,
    Sandbox sandbox) {

  /** How persistent worker processes are isolated from the rest of the machine. */
  public enum Sandbox {
    /** Not at all beyond their own directory and environment (the default). */
    NONE,
    /**
     * Each process in new mount, pid, ipc and uts namespaces with a private {@code /tmp}, through
     * {@code unshare(1)}; the worker refuses to start where the kernel does not allow it.
     */
    NAMESPACES
  }

  /** The default idle timeout: 5 minutes. */
  public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofMinutes(5);

  /** The default per-key process limit: 10. */
  public static final int DEFAULT_MAX_PROCESSES_PER_KEY = 10;

  /** The default grace period of a retiring process: 5 seconds. */
  public static final Duration DEFAULT_SHUTDOWN_GRACE = Duration.ofSeconds(5);

  /** The default number of requests in flight on one multiplex process: 8, as Bazel's. */
  public static final int DEFAULT_MAX_MULTIPLEX_REQUESTS = 8;

  public PersistentWorkersConfig {
    Objects.requireNonNull(idleTimeout, "idleTimeout");
    Objects.requireNonNull(atCapacity, "atCapacity");
    Objects.requireNonNull(shutdownGrace, "shutdownGrace");
    Objects.requireNonNull(sandbox, "sandbox");
    tools = Map.copyOf(tools);
    allowedTools = allowedTools.map(Set::copyOf);
    allowedKeys = allowedKeys.map(Set::copyOf);
  }

  /**
   * The defaults for a worker with {@code slots} slots: enabled, idle timeout 5 minutes, 10
   * processes per key, and at most {@code max(10, 2 * slots)} processes in all, waiting at the cap.
   */
  public static PersistentWorkersConfig defaults(int slots) {
    return new PersistentWorkersConfig(
        true,
        DEFAULT_IDLE_TIMEOUT,
        DEFAULT_MAX_PROCESSES_PER_KEY,
        defaultMaxProcesses(slots),
        0,
        0,
        AtCapacity.WAIT,
        DEFAULT_SHUTDOWN_GRACE,
        DEFAULT_MAX_MULTIPLEX_REQUESTS,
        Map.of(),
        Optional.empty(),
        Optional.empty(),
        Sandbox.NONE);
  }

  static int defaultMaxProcesses(int slots) {
    return Math.max(DEFAULT_MAX_PROCESSES_PER_KEY, 2 * slots);
  }

  /**
   * Whether an action with this key and tool may run on a persistent process: always, unless the
   * configuration lists allowed tools or keys and the action matches none of them.
   */
  public boolean allows(String clientKey, String tool) {
    if (!enabled) {
      return false;
    }
    if (allowedTools.isEmpty() && allowedKeys.isEmpty()) {
      return true;
    }
    return allowedTools.map(t -> t.contains(tool)).orElse(false)
        || allowedKeys.map(k -> k.contains(clientKey)).orElse(false);
  }

  /**
   * A tool the worker's configuration defines. An action naming it in {@code persistentWorkerTool}
   * runs with these settings; one that names no defined tool runs with the action's own command and
   * the pool's limits.
   *
   * @param name the name actions use
   * @param command when not empty, the command that starts the tool on this worker, replacing the
   *     startup part of the action's command line ({@code --persistent_worker} is appended)
   * @param protocol overrides the action's {@code persistentWorkerProtocol}
   * @param multiplex overrides the action's {@code persistentWorkerMultiplex}
   * @param cancellable whether the tool answers {@code cancel=true}; if not, a cancelled request's
   *     process is killed
   * @param maxProcessesPerKey overrides the pool's limit for this tool's keys
   * @param maxRequestsPerProcess overrides the pool's limit (0 for none)
   * @param memoryLimitBytes overrides the pool's limit (0 for none)
   * @param idleTimeout overrides the pool's idle timeout
   */
  public record Tool(
      String name,
      List<String> command,
      Optional<ToolProtocol> protocol,
      Optional<Boolean> multiplex,
      boolean cancellable,
      OptionalInt maxProcessesPerKey,
      OptionalInt maxRequestsPerProcess,
      OptionalLong memoryLimitBytes,
      Optional<Duration> idleTimeout) {
    public Tool {
      Objects.requireNonNull(name, "name");
      command = List.copyOf(command);
    }
  }
}
