package build.hearth.core.config;

import build.hearth.api.PoolLimits.AtCapacity;
import build.hearth.api.ToolProtocol;
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
 * <p>In code, build one with {@link #newBuilder()} rather than the thirteen-argument constructor:
 *
 * <pre>{@code
 * PersistentWorkersConfig settings =
 *     PersistentWorkersConfig.newBuilder()
 *         .idleTimeout(Duration.ofMinutes(10))
 *         .maxProcessesPerKey(4)
 *         .tool(Tool.of("javac", List.of("java", "-jar", "/opt/javac-worker.jar")))
 *         .allowTools("javac")
 *         .build();
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
    Optional<Set<String>> allowedKeys) {

  /** The default idle timeout: 5 minutes. */
  public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofMinutes(5);

  /** The default per-key process limit: 10. */
  public static final int DEFAULT_MAX_PROCESSES_PER_KEY = 10;

  /** The default grace period of a retiring process: 5 seconds. */
  public static final Duration DEFAULT_SHUTDOWN_GRACE = Duration.ofSeconds(5);

  /** The default number of requests in flight on one multiplex process: 8, as Bazel's. */
  public static final int DEFAULT_MAX_MULTIPLEX_REQUESTS = 8;

  /**
   * Copies the collections and checks the values that must be present.
   *
   * @param enabled as described above
   * @param idleTimeout as described above
   * @param maxProcessesPerKey as described above
   * @param maxProcesses as described above
   * @param maxRequestsPerProcess as described above
   * @param memoryLimitBytes as described above
   * @param atCapacity as described above
   * @param shutdownGrace as described above
   * @param maxMultiplexRequests as described above
   * @param tools as described above
   * @param allowedTools as described above
   * @param allowedKeys as described above
   * @throws NullPointerException if an object is null
   */
  public PersistentWorkersConfig {
    Objects.requireNonNull(idleTimeout, "idleTimeout");
    Objects.requireNonNull(atCapacity, "atCapacity");
    Objects.requireNonNull(shutdownGrace, "shutdownGrace");
    tools = Map.copyOf(tools);
    allowedTools = allowedTools.map(Set::copyOf);
    allowedKeys = allowedKeys.map(Set::copyOf);
  }

  /**
   * The defaults for a worker with {@code slots} slots: enabled, idle timeout 5 minutes, 10
   * processes per key, and at most {@code max(10, 2 * slots)} processes in all, waiting at the cap.
   *
   * @param slots the worker's slots
   * @return the default settings
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
        Optional.empty());
  }

  /**
   * A builder that starts from {@link #defaults defaults(n)}, where {@code n} is the number of
   * processors (the default of {@code Hearth.Builder.workerSlots}): so {@code maxProcesses} starts
   * at {@code max(10, 2 * processors)}; set it when you change the worker's slots. Each setter
   * checks its argument and throws {@link IllegalArgumentException} naming the setting.
   *
   * @return a builder at the defaults
   */
  public static Builder newBuilder() {
    return defaults(Runtime.getRuntime().availableProcessors()).toBuilder();
  }

  /** {@return a builder that starts from these settings, to derive others from them} */
  public Builder toBuilder() {
    return new Builder(this);
  }

  static int defaultMaxProcesses(int slots) {
    return Math.max(DEFAULT_MAX_PROCESSES_PER_KEY, 2 * slots);
  }

  /**
   * Whether an action with this key and tool may run on a persistent process: always, unless the
   * configuration lists allowed tools or keys and the action matches none of them.
   *
   * @param clientKey the action's {@code persistentWorkerKey}
   * @param tool the action's {@code persistentWorkerTool}, or {@code ""}
   * @return whether it may run persistently
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
   * Builds a {@link PersistentWorkersConfig}; from {@link #newBuilder()} or {@link #toBuilder()}.
   * Not thread-safe; every setter returns the builder.
   */
  public static final class Builder {
    private boolean enabled;
    private Duration idleTimeout;
    private int maxProcessesPerKey;
    private int maxProcesses;
    private int maxRequestsPerProcess;
    private long memoryLimitBytes;
    private AtCapacity atCapacity;
    private Duration shutdownGrace;
    private int maxMultiplexRequests;
    private final Map<String, Tool> tools = new java.util.LinkedHashMap<>();
    private Optional<Set<String>> allowedTools;
    private Optional<Set<String>> allowedKeys;

    private Builder(PersistentWorkersConfig from) {
      enabled = from.enabled;
      idleTimeout = from.idleTimeout;
      maxProcessesPerKey = from.maxProcessesPerKey;
      maxProcesses = from.maxProcesses;
      maxRequestsPerProcess = from.maxRequestsPerProcess;
      memoryLimitBytes = from.memoryLimitBytes;
      atCapacity = from.atCapacity;
      shutdownGrace = from.shutdownGrace;
      maxMultiplexRequests = from.maxMultiplexRequests;
      tools.putAll(from.tools);
      allowedTools = from.allowedTools;
      allowedKeys = from.allowedKeys;
    }

    /**
     * @param enabled false runs every action as an ordinary process; true by default
     * @return this builder
     */
    public Builder enabled(boolean enabled) {
      this.enabled = enabled;
      return this;
    }

    /**
     * @param idleTimeout how long a process may stay idle before it is retired; 5 minutes by
     *     default
     * @return this builder
     * @throws IllegalArgumentException if negative
     */
    public Builder idleTimeout(Duration idleTimeout) {
      this.idleTimeout = notNegative("idleTimeout", idleTimeout);
      return this;
    }

    /**
     * @param max the most processes of one key alive at once; 10 by default
     * @return this builder
     * @throws IllegalArgumentException if less than 1
     */
    public Builder maxProcessesPerKey(int max) {
      this.maxProcessesPerKey = atLeast("maxProcessesPerKey", max, 1);
      return this;
    }

    /**
     * @param max the most processes alive at once across all keys
     * @return this builder
     * @throws IllegalArgumentException if less than 1
     */
    public Builder maxProcesses(int max) {
      this.maxProcesses = atLeast("maxProcesses", max, 1);
      return this;
    }

    /**
     * @param max requests after which a process is retired; 0 (the default) for no limit
     * @return this builder
     * @throws IllegalArgumentException if negative
     */
    public Builder maxRequestsPerProcess(int max) {
      this.maxRequestsPerProcess = atLeast("maxRequestsPerProcess", max, 0);
      return this;
    }

    /**
     * @param bytes resident bytes above which a process is retired after a request; 0 (the default)
     *     for no limit
     * @return this builder
     * @throws IllegalArgumentException if negative
     */
    public Builder memoryLimitBytes(long bytes) {
      this.memoryLimitBytes = atLeast("memoryLimitBytes", bytes, 0);
      return this;
    }

    /**
     * @param atCapacity what an action does when its key is at its cap; {@code WAIT} by default
     * @return this builder
     */
    public Builder atCapacity(AtCapacity atCapacity) {
      this.atCapacity = Objects.requireNonNull(atCapacity, "atCapacity");
      return this;
    }

    /**
     * @param grace how long a retiring process gets after stdin is closed, and again after SIGTERM,
     *     before it is killed; 5 seconds by default
     * @return this builder
     * @throws IllegalArgumentException if negative
     */
    public Builder shutdownGrace(Duration grace) {
      this.shutdownGrace = notNegative("shutdownGrace", grace);
      return this;
    }

    /**
     * @param max the most requests in flight on one multiplex process; 8 by default
     * @return this builder
     * @throws IllegalArgumentException if less than 1
     */
    public Builder maxMultiplexRequests(int max) {
      this.maxMultiplexRequests = atLeast("maxMultiplexRequests", max, 1);
      return this;
    }

    /**
     * Defines a tool, replacing one of the same name.
     *
     * @param tool the tool, which actions name in {@code persistentWorkerTool}
     * @return this builder
     */
    public Builder tool(Tool tool) {
      tools.put(tool.name(), tool);
      return this;
    }

    /**
     * Lets only actions naming one of these tools (or, with {@link #allowKeys}, one of those keys)
     * run persistently; by default every action may.
     *
     * @param names tool names, as actions give them in {@code persistentWorkerTool}
     * @return this builder
     */
    public Builder allowTools(String... names) {
      this.allowedTools = Optional.of(Set.of(names));
      return this;
    }

    /**
     * Lets only actions with one of these {@code persistentWorkerKey}s (or, with {@link
     * #allowTools}, one of those tools) run persistently.
     *
     * @param keys client keys
     * @return this builder
     */
    public Builder allowKeys(String... keys) {
      this.allowedKeys = Optional.of(Set.of(keys));
      return this;
    }

    /** {@return the settings} */
    public PersistentWorkersConfig build() {
      return new PersistentWorkersConfig(
          enabled,
          idleTimeout,
          maxProcessesPerKey,
          maxProcesses,
          maxRequestsPerProcess,
          memoryLimitBytes,
          atCapacity,
          shutdownGrace,
          maxMultiplexRequests,
          tools,
          allowedTools,
          allowedKeys);
    }

    private static int atLeast(String name, int value, int minimum) {
      return (int) atLeast(name, (long) value, minimum);
    }

    private static long atLeast(String name, long value, long minimum) {
      if (value < minimum) {
        throw new IllegalArgumentException(
            "persistentWorkers." + name + " must be at least " + minimum + ", but is " + value);
      }
      return value;
    }

    private static Duration notNegative(String name, Duration value) {
      if (value.isNegative()) {
        throw new IllegalArgumentException(
            "persistentWorkers." + name + " must not be negative, but is " + value);
      }
      return value;
    }
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
    /**
     * Copies the command.
     *
     * @param name as described above
     * @param command as described above
     * @param protocol as described above
     * @param multiplex as described above
     * @param cancellable as described above
     * @param maxProcessesPerKey as described above
     * @param maxRequestsPerProcess as described above
     * @param memoryLimitBytes as described above
     * @param idleTimeout as described above
     */
    public Tool {
      Objects.requireNonNull(name, "name");
      command = List.copyOf(command);
    }

    /**
     * A tool started by {@code command} on this worker, with every other setting taken from the
     * action and the pool.
     *
     * <pre>{@code
     * Tool.of("javac", List.of("java", "-jar", "/opt/javac-worker.jar"))
     * }</pre>
     *
     * @param name the name actions give in {@code persistentWorkerTool}
     * @param command the program and its arguments; {@code --persistent_worker} is appended
     * @return the tool
     */
    public static Tool of(String name, List<String> command) {
      return new Tool(
          name,
          command,
          Optional.empty(),
          Optional.empty(),
          false,
          OptionalInt.empty(),
          OptionalInt.empty(),
          OptionalLong.empty(),
          Optional.empty());
    }
  }
}
