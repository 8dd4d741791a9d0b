package build.hearth.core.persistent;

import build.hearth.api.PoolLimits;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Function;

/**
 * Builds a {@link ToolPool}; obtained from {@link ToolPool#newBuilder()}. Each setter checks its
 * argument and throws {@link IllegalArgumentException} (or {@link NullPointerException} for null)
 * for a bad one. Not thread-safe.
 */
public final class ToolPoolBuilder {
  private static final Duration MAX_SWEEP_INTERVAL = Duration.ofSeconds(30);
  private static final Duration MIN_SWEEP_INTERVAL = Duration.ofMillis(100);

  Path directory;
  ProcessFactory processFactory;
  PoolLimits defaultLimits = PoolLimits.DEFAULTS;
  Function<? super ToolKey, PoolLimits> limits;
  int maxProcesses;
  Duration shutdownGrace = Duration.ofSeconds(5);
  Clock clock = Clock.systemUTC();
  Duration sweepInterval;
  ScheduledExecutorService timer;
  Executor retirementExecutor;

  ToolPoolBuilder() {}

  /**
   * The directory under which each process gets its own, named {@code <shortFingerprint>-<n>};
   * required. It belongs to this pool: on build, process directories an earlier pool left in it are
   * deleted.
   */
  public ToolPoolBuilder directory(Path directory) {
    this.directory = Objects.requireNonNull(directory, "directory").toAbsolutePath().normalize();
    return this;
  }

  /** Starts the processes; required. */
  public ToolPoolBuilder processFactory(ProcessFactory factory) {
    this.processFactory = Objects.requireNonNull(factory, "factory");
    return this;
  }

  /**
   * The limits of keys that {@link #limits(Function)} gives none of its own; {@link
   * PoolLimits#DEFAULTS} by default.
   */
  public ToolPoolBuilder defaultLimits(PoolLimits limits) {
    this.defaultLimits = Objects.requireNonNull(limits, "limits");
    return this;
  }

  /**
   * The limits of each key, asked once per key with the pool's lock held, so it must be quick and
   * must not call the pool; returning null means the {@link #defaultLimits default limits}. By
   * default every key gets the default limits.
   */
  public ToolPoolBuilder limits(Function<? super ToolKey, PoolLimits> limits) {
    this.limits = Objects.requireNonNull(limits, "limits");
    return this;
  }

  /**
   * The cap on processes across all keys, counting those starting and those still shutting down. By
   * default twice the default limits' {@link PoolLimits#maxProcessesPerKey()}, so that two busy
   * keys can each use their full share; set it from the machine's memory and cores. When it is
   * reached and another key has an idle process, that process is retired to make room.
   */
  public ToolPoolBuilder maxProcesses(int maxProcesses) {
    if (maxProcesses < 1) {
      throw new IllegalArgumentException("maxProcesses must be at least 1, but is " + maxProcesses);
    }
    this.maxProcesses = maxProcesses;
    return this;
  }

  /**
   * How long a retiring process gets to leave after its stdin closes, and again after SIGTERM,
   * before it is killed; 5 seconds by default. See {@link ToolProcess#shutdown(Duration)}.
   */
  public ToolPoolBuilder shutdownGrace(Duration grace) {
    Objects.requireNonNull(grace, "grace");
    if (grace.isNegative()) {
      throw new IllegalArgumentException("shutdownGrace must not be negative: " + grace);
    }
    this.shutdownGrace = grace;
    return this;
  }

  /**
   * The clock that idle times and lease hold times are measured with; the system clock by default.
   */
  public ToolPoolBuilder clock(Clock clock) {
    this.clock = Objects.requireNonNull(clock, "clock");
    return this;
  }

  /**
   * How often the pool calls {@link ToolPool#retireIdle()}. By default a quarter of the default
   * limits' idle timeout, at most 30 seconds and at least 100 milliseconds. Zero turns the
   * automatic sweeps off, and the embedder calls it instead.
   */
  public ToolPoolBuilder sweepInterval(Duration interval) {
    Objects.requireNonNull(interval, "interval");
    if (interval.isNegative()) {
      throw new IllegalArgumentException("sweepInterval must not be negative: " + interval);
    }
    this.sweepInterval = interval;
    return this;
  }

  /**
   * The executor that runs the sweeps. By default the pool creates a daemon thread and stops it on
   * {@link ToolPool#close()}; an executor given here is not shut down, only the pool's task on it
   * is cancelled.
   */
  public ToolPoolBuilder timer(ScheduledExecutorService timer) {
    this.timer = Objects.requireNonNull(timer, "timer");
    return this;
  }

  /**
   * Where retired processes are shut down and their directories deleted, which can take the
   * shutdown grace twice over. By default the pool creates daemon threads as needed, so that
   * shutdowns run in parallel and never on a thread that serves a request, and stops them on {@link
   * ToolPool#close()}; an executor given here is not shut down. {@code Runnable::run} does the work
   * on the thread that retired the process, after the pool's lock is released, which suits tests.
   */
  public ToolPoolBuilder retirementExecutor(Executor executor) {
    this.retirementExecutor = Objects.requireNonNull(executor, "executor");
    return this;
  }

  /**
   * Builds the pool, deleting leftover process directories and starting the threads it owns.
   *
   * @throws IllegalStateException if the directory or the process factory is missing, or a timer
   *     was given but the sweep interval is zero
   */
  public ToolPool build() {
    if (directory == null) {
      throw new IllegalStateException("a tool pool needs a directory for its processes");
    }
    if (processFactory == null) {
      throw new IllegalStateException("a tool pool needs a process factory");
    }
    if (timer != null && sweepInterval != null && sweepInterval.isZero()) {
      throw new IllegalStateException(
          "a timer was given but sweepInterval is zero; set a positive interval");
    }
    return new ToolPool(this);
  }

  int effectiveMaxProcesses() {
    return maxProcesses > 0 ? maxProcesses : 2 * defaultLimits.maxProcessesPerKey();
  }

  Duration effectiveSweepInterval() {
    if (sweepInterval != null) {
      return sweepInterval;
    }
    Duration idle = defaultLimits.idleTimeout();
    if (idle.isZero()) {
      return MAX_SWEEP_INTERVAL;
    }
    Duration quarter = idle.dividedBy(4);
    if (quarter.compareTo(MIN_SWEEP_INTERVAL) < 0) {
      return MIN_SWEEP_INTERVAL;
    }
    return quarter.compareTo(MAX_SWEEP_INTERVAL) > 0 ? MAX_SWEEP_INTERVAL : quarter;
  }
}
