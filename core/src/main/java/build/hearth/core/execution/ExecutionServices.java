package build.hearth.core.execution;

import build.hearth.api.ActionCache;
import build.hearth.api.ContentAddressableStorage;
import build.hearth.api.Digest;
import build.hearth.api.ExecutionService;
import build.hearth.core.internal.Durations;
import build.hearth.core.scheduler.ResultHook;
import build.hearth.core.scheduler.Scheduler;
import build.hearth.spi.worker.ActionOutcome;
import build.hearth.spi.worker.ExecutionTask;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Function;

/**
 * Builds the {@link ExecutionService} of one REAPI instance: it reads actions from the instance's
 * CAS, answers from its action cache, and hands the rest to a {@link Scheduler}.
 *
 * <pre>{@code
 * ExecutionService executions = ExecutionServices.newBuilder()
 *     .instanceName("main")
 *     .cas(cas)
 *     .actionCache(actionCache)
 *     .scheduler(scheduler)
 *     .defaultTimeout(Duration.ofMinutes(15))
 *     .maxTimeout(Duration.ofHours(3))
 *     .build();
 * }</pre>
 *
 * <h2>Operation names</h2>
 *
 * Each execution is named {@code INSTANCE/operations/UUID}, or {@code operations/UUID} for the
 * default instance {@code ""}: unique in the server, and the instance is everything before the last
 * {@code /operations/}, so a transport serving several instances can route WaitExecution without
 * asking each of them.
 *
 * <h2>Lifetime</h2>
 *
 * The service owns no thread and holds nothing to close: its executions live in the scheduler until
 * they complete, and completed ones are forgotten {@linkplain Builder#retention a while} later,
 * checked whenever the service is used, or sooner once {@linkplain Builder#maxCompletedOperations
 * too many} are kept or {@linkplain Builder#maxCompletedOperationBytes they weigh too much}. An
 * execution no client watches any more is cancelled after a {@linkplain Builder#reattachGrace
 * grace} in which a client may re-attach. Closing the scheduler completes every unfinished
 * execution with UNAVAILABLE.
 */
public final class ExecutionServices {
  /** How many operations of completed executions are kept by default: 10,000. */
  public static final int DEFAULT_MAX_COMPLETED_OPERATIONS = 10_000;

  /**
   * How much the operations of completed executions may weigh by default: 32 MiB. A typical
   * ExecuteResponse (an ActionResult naming a few output files, no inline output) is under 2 KiB,
   * so the default 10,000 operations of such responses, with their overhead, stay under about 26
   * MiB and this bound does not cut them; responses carrying inline stdout or stderr of a megabyte
   * each are held to 32 MiB, where the count alone would let them take 10 GB.
   */
  public static final long DEFAULT_MAX_COMPLETED_OPERATION_BYTES = 32L << 20;

  /** How many operations one execution in flight takes at most by default: 1,000. */
  public static final int DEFAULT_MAX_OPERATIONS_PER_EXECUTION =
      SharedExecution.DEFAULT_MAX_OPERATIONS;

  /** How long an execution nobody watches waits for a client to re-attach, by default: 5 s. */
  public static final Duration DEFAULT_REATTACH_GRACE = Duration.ofSeconds(5);

  /** The longest re-attach grace allowed: 30 s, so that an abandoned action does not run on. */
  public static final Duration MAX_REATTACH_GRACE = Duration.ofSeconds(30);

  private ExecutionServices() {}

  /**
   * The result hook of a scheduler shared by the servers of a service (see {@link
   * build.hearth.core.scheduler.SchedulerBuilder#build(build.hearth.core.scheduler.SharedState)}):
   * on the server that heard the worker, it stamps the time the action was queued into the result
   * and writes a successful, cacheable result to the action cache of the task's instance, so that
   * once the execution is complete in the shared state its result is cached, whichever server the
   * action came through. Execution services over such a scheduler are built with {@link
   * Builder#resultsRecordedByScheduler}.
   *
   * @param actionCaches the action cache of each instance name, or empty for an instance without
   * @return the hook
   */
  public static ResultHook<ExecutionTask, ActionOutcome> resultHook(
      Function<String, Optional<ActionCache>> actionCaches) {
    Objects.requireNonNull(actionCaches, "actionCaches");
    return (task, enqueuedAt, outcome) -> {
      ActionOutcome stamped = ResultRecording.withQueuedTime(outcome, enqueuedAt);
      ResultRecording.store(actionCaches.apply(task.instanceName()), task, stamped);
      return stamped;
    };
  }

  /** A builder; {@link Builder#cas} and {@link Builder#scheduler} must be set. */
  public static Builder newBuilder() {
    return new Builder();
  }

  /**
   * Builds an {@link ExecutionService}. Each setter checks its argument and throws {@link
   * IllegalArgumentException} (or {@link NullPointerException}) for a bad one. Not thread-safe.
   */
  public static final class Builder {
    private String instanceName = "";
    private ContentAddressableStorage cas;
    private Optional<ActionCache> actionCache = Optional.empty();
    private Scheduler<ExecutionTask, ActionOutcome> scheduler;
    private Duration defaultTimeout = Duration.ofMinutes(15);
    private Duration maxTimeout = Duration.ofHours(3);
    private Clock clock = Clock.systemUTC();
    private Duration retention = Duration.ofMinutes(10);
    private int maxCompletedOperations = DEFAULT_MAX_COMPLETED_OPERATIONS;
    private long maxCompletedOperationBytes = DEFAULT_MAX_COMPLETED_OPERATION_BYTES;
    private int maxOperationsPerExecution = DEFAULT_MAX_OPERATIONS_PER_EXECUTION;
    private Duration reattachGrace = DEFAULT_REATTACH_GRACE;
    private ScheduledExecutorService timer;
    private Executor completionExecutor = Runnable::run;
    private ExecutionListener listener = ExecutionListener.NONE;
    private Function<Digest, String> actionPages = digest -> "";
    private boolean resultsRecordedByScheduler;

    private Builder() {}

    /** The REAPI instance name the service serves; {@code ""} (the default instance) by default. */
    public Builder instanceName(String instanceName) {
      this.instanceName = Objects.requireNonNull(instanceName, "instanceName");
      return this;
    }

    /** The instance's CAS, which holds actions, commands and inputs; required. */
    public Builder cas(ContentAddressableStorage cas) {
      this.cas = Objects.requireNonNull(cas, "cas");
      return this;
    }

    /** The instance's action cache, looked up before executing and filled with results. */
    public Builder actionCache(ActionCache actionCache) {
      this.actionCache = Optional.of(actionCache);
      return this;
    }

    /**
     * The instance's action cache, or empty (the default) for an instance that executes without
     * caching results.
     */
    public Builder actionCache(Optional<ActionCache> actionCache) {
      this.actionCache = Objects.requireNonNull(actionCache, "actionCache");
      return this;
    }

    /** The scheduler that hands actions to workers; required. The service does not close it. */
    public Builder scheduler(Scheduler<ExecutionTask, ActionOutcome> scheduler) {
      this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
      return this;
    }

    /** The timeout of an action that sets none; 15 minutes by default. */
    public Builder defaultTimeout(Duration timeout) {
      this.defaultTimeout = positive(timeout, "defaultTimeout");
      return this;
    }

    /**
     * The longest timeout an action may ask for; 3 hours by default. A longer one is refused with
     * INVALID_ARGUMENT, as REAPI asks, rather than shortened.
     */
    public Builder maxTimeout(Duration timeout) {
      this.maxTimeout = positive(timeout, "maxTimeout");
      return this;
    }

    /** The clock that ages completed executions; the system clock by default. */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * How long a completed execution can still be {@linkplain ExecutionService#find found}, so that
     * a client whose stream broke can ask for its result with WaitExecution; 10 minutes by default.
     */
    public Builder retention(Duration retention) {
      Objects.requireNonNull(retention, "retention");
      if (retention.isNegative()) {
        throw new IllegalArgumentException("retention must not be negative: " + retention);
      }
      this.retention = retention;
      return this;
    }

    /**
     * How many operations of completed executions can still be {@linkplain ExecutionService#find
     * found}, at most; {@link #DEFAULT_MAX_COMPLETED_OPERATIONS} by default. Beyond it the oldest
     * completed executions are forgotten before their {@linkplain #retention retention} ends, and
     * WaitExecution finds them no more (NOT_FOUND). Action-cache hits count like the rest.
     */
    public Builder maxCompletedOperations(int max) {
      if (max < 1) {
        throw new IllegalArgumentException("maxCompletedOperations must be positive: " + max);
      }
      this.maxCompletedOperations = max;
      return this;
    }

    /**
     * How much the operations of completed executions may weigh, at most; {@link
     * #DEFAULT_MAX_COMPLETED_OPERATION_BYTES} by default. An execution weighs the serialized size
     * of its ExecuteResponse (inline stdout and stderr included) plus a fixed overhead per
     * operation. Beyond it the oldest completed executions are forgotten, as with {@link
     * #maxCompletedOperations}; the newest is kept whatever its size.
     */
    public Builder maxCompletedOperationBytes(long max) {
      if (max < 1) {
        throw new IllegalArgumentException("maxCompletedOperationBytes must be positive: " + max);
      }
      this.maxCompletedOperationBytes = max;
      return this;
    }

    /**
     * How many operations an execution in flight takes at most, one per Execute of the same action
     * merged onto it; {@link #DEFAULT_MAX_OPERATIONS_PER_EXECUTION} by default. An Execute beyond
     * it is refused with RESOURCE_EXHAUSTED (limit {@code operations_per_execution}, a 1 s retry
     * hint) naming {@code execution.maxOperationsPerExecution}.
     */
    public Builder maxOperationsPerExecution(int max) {
      if (max < 1) {
        throw new IllegalArgumentException("maxOperationsPerExecution must be positive: " + max);
      }
      this.maxOperationsPerExecution = max;
      return this;
    }

    /**
     * How long an unfinished execution that no client watches any more waits before it is
     * cancelled; {@link #DEFAULT_REATTACH_GRACE} by default, at most {@link #MAX_REATTACH_GRACE}. A
     * client whose Execute stream broke re-attaches with WaitExecution within it and gets the
     * result of the one run. Zero cancels at once. An explicit {@link
     * build.hearth.api.Execution#cancel() cancel} never waits.
     */
    public Builder reattachGrace(Duration grace) {
      Objects.requireNonNull(grace, "grace");
      if (grace.isNegative() || grace.compareTo(MAX_REATTACH_GRACE) > 0) {
        throw new IllegalArgumentException(
            "reattachGrace must be between 0 and "
                + Durations.format(MAX_REATTACH_GRACE)
                + ": "
                + grace);
      }
      this.reattachGrace = grace;
      return this;
    }

    /**
     * The timer that measures the {@linkplain #reattachGrace re-attach grace}; by default the JDK's
     * shared delayer, so that the service owns no thread. The service does not shut it down.
     */
    public Builder timer(ScheduledExecutorService timer) {
      this.timer = Objects.requireNonNull(timer, "timer");
      return this;
    }

    /**
     * Where an execution is finished once its worker reported: the result is written to the action
     * cache, then the execution completes. By default that happens on the thread that delivered the
     * worker's report; give a pool to keep action-cache writes off a transport's threads.
     */
    public Builder completionExecutor(Executor executor) {
      this.completionExecutor = Objects.requireNonNull(executor, "executor");
      return this;
    }

    /** Hears how executions end; {@link ExecutionListener#NONE} by default. */
    public Builder listener(ExecutionListener listener) {
      this.listener = Objects.requireNonNull(listener, "listener");
      return this;
    }

    /**
     * Where a failed action's page is (the web UI's action page, issue 17), so that what Bazel
     * prints for a failure leads to it: the page's address is added to the {@code message} of the
     * ExecuteResponse of every execution that failed (a command that exited non-zero, or one that
     * could not run, cancellations aside). By default no address is added.
     *
     * @param actionPages gives the page's absolute URL for an action digest; an empty string adds
     *     nothing
     */
    public Builder actionPages(Function<Digest, String> actionPages) {
      this.actionPages = Objects.requireNonNull(actionPages, "actionPages");
      return this;
    }

    /**
     * Says that the {@linkplain #scheduler scheduler} is shared by the servers of a service and
     * records each worker's result itself, with the hook of {@link #resultHook}, on whichever
     * server heard the worker: the service then only builds responses from the results it gets.
     * False by default: the service stamps the queued time and writes the action cache itself.
     */
    public Builder resultsRecordedByScheduler(boolean recorded) {
      this.resultsRecordedByScheduler = recorded;
      return this;
    }

    /**
     * Builds the service.
     *
     * @throws IllegalStateException if the CAS or the scheduler is missing, or the default timeout
     *     exceeds the maximum
     */
    public ExecutionService build() {
      if (cas == null) {
        throw new IllegalStateException("an execution service needs a CAS; call cas(...)");
      }
      if (scheduler == null) {
        throw new IllegalStateException(
            "an execution service needs a scheduler; call scheduler(...)");
      }
      if (defaultTimeout.compareTo(maxTimeout) > 0) {
        throw new IllegalStateException(
            "defaultTimeout "
                + Durations.format(defaultTimeout)
                + " exceeds maxTimeout "
                + Durations.format(maxTimeout));
      }
      return new DefaultExecutionService(
          instanceName,
          cas,
          actionCache,
          scheduler,
          defaultTimeout,
          maxTimeout,
          clock,
          retention,
          maxCompletedOperations,
          maxCompletedOperationBytes,
          maxOperationsPerExecution,
          new ReattachGrace(reattachGrace, timer),
          completionExecutor,
          listener,
          actionPages,
          resultsRecordedByScheduler);
    }

    private static Duration positive(Duration duration, String name) {
      Objects.requireNonNull(duration, name);
      if (duration.isNegative() || duration.isZero()) {
        throw new IllegalArgumentException(name + " must be positive: " + duration);
      }
      return duration;
    }
  }
}
