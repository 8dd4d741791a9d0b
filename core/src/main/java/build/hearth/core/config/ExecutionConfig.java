package build.hearth.core.config;

import build.hearth.core.execution.ExecutionServices;
import java.time.Duration;
import java.util.Objects;

/**
 * How one REAPI instance executes actions: the scheduler its actions go to, and the timeouts it
 * applies. An instance with an {@code ExecutionConfig} offers the Execution service; whether it
 * also caches results depends on its {@link InstanceConfig#actionCacheStore() action cache}.
 *
 * <p>Built only by {@link HearthConfig}'s readers, which have checked that the scheduler is defined
 * and that {@code 0 < defaultTimeout <= maxTimeout}. Immutable and thread-safe.
 */
public final class ExecutionConfig {
  /** The timeout of an action that sets none, when the file does not say: 15 minutes. */
  public static final Duration DEFAULT_DEFAULT_TIMEOUT = Duration.ofMinutes(15);

  /** The longest timeout an action may ask for, when the file does not say: 3 hours. */
  public static final Duration DEFAULT_MAX_TIMEOUT = Duration.ofHours(3);

  /** How many operations of completed executions are kept when the file does not say: 10,000. */
  public static final int DEFAULT_MAX_COMPLETED_OPERATIONS =
      ExecutionServices.DEFAULT_MAX_COMPLETED_OPERATIONS;

  /** How much the operations of completed executions may weigh when the file does not say. */
  public static final long DEFAULT_MAX_COMPLETED_OPERATION_BYTES =
      ExecutionServices.DEFAULT_MAX_COMPLETED_OPERATION_BYTES;

  /** How many operations one execution in flight takes when the file does not say: 1,000. */
  public static final int DEFAULT_MAX_OPERATIONS_PER_EXECUTION =
      ExecutionServices.DEFAULT_MAX_OPERATIONS_PER_EXECUTION;

  /** How long an execution nobody watches waits for a client to come back, by default: 5 s. */
  public static final Duration DEFAULT_REATTACH_GRACE = ExecutionServices.DEFAULT_REATTACH_GRACE;

  private final String scheduler;
  private final Duration defaultTimeout;
  private final Duration maxTimeout;
  private final int maxCompletedOperations;
  private final long maxCompletedOperationBytes;
  private final int maxOperationsPerExecution;
  private final Duration reattachGrace;

  ExecutionConfig(String scheduler, Duration defaultTimeout, Duration maxTimeout) {
    this(
        scheduler,
        defaultTimeout,
        maxTimeout,
        DEFAULT_MAX_COMPLETED_OPERATIONS,
        DEFAULT_MAX_COMPLETED_OPERATION_BYTES,
        DEFAULT_MAX_OPERATIONS_PER_EXECUTION,
        DEFAULT_REATTACH_GRACE);
  }

  ExecutionConfig(
      String scheduler,
      Duration defaultTimeout,
      Duration maxTimeout,
      int maxCompletedOperations,
      long maxCompletedOperationBytes,
      int maxOperationsPerExecution,
      Duration reattachGrace) {
    this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
    this.defaultTimeout = Objects.requireNonNull(defaultTimeout, "defaultTimeout");
    this.maxTimeout = Objects.requireNonNull(maxTimeout, "maxTimeout");
    this.maxCompletedOperations = maxCompletedOperations;
    this.maxCompletedOperationBytes = maxCompletedOperationBytes;
    this.maxOperationsPerExecution = maxOperationsPerExecution;
    this.reattachGrace = Objects.requireNonNull(reattachGrace, "reattachGrace");
  }

  /**
   * {@return the name of the {@link HearthConfig#schedulers() scheduler} that runs this instance's
   * actions}
   */
  public String scheduler() {
    return scheduler;
  }

  /** {@return the timeout of an action whose {@code Action.timeout} is unset; positive} */
  public Duration defaultTimeout() {
    return defaultTimeout;
  }

  /**
   * {@return the longest {@code Action.timeout} accepted; REAPI has the server refuse a longer one
   * (with INVALID_ARGUMENT) rather than shorten it} At least {@link #defaultTimeout()}.
   */
  public Duration maxTimeout() {
    return maxTimeout;
  }

  /**
   * {@return how many operations of completed executions can still be found by WaitExecution and
   * GetOperation; the oldest are forgotten beyond it; always positive}
   */
  public int maxCompletedOperations() {
    return maxCompletedOperations;
  }

  /**
   * {@return how much the operations of completed executions may weigh (their responses' serialized
   * size plus a fixed overhead per operation); the oldest are forgotten beyond it; always positive}
   */
  public long maxCompletedOperationBytes() {
    return maxCompletedOperationBytes;
  }

  /**
   * {@return how many operations an execution in flight takes at most, one per Execute merged onto
   * it; always positive}
   */
  public int maxOperationsPerExecution() {
    return maxOperationsPerExecution;
  }

  /**
   * {@return how long an unfinished execution whose last client's stream broke waits for a client
   * to re-attach before it is cancelled; between 0 and 30 seconds}
   */
  public Duration reattachGrace() {
    return reattachGrace;
  }

  /**
   * Sets this configuration's timeouts, operation bounds and re-attach grace on {@code builder},
   * leaving the rest as it is.
   *
   * @param builder the execution service builder to configure
   * @return {@code builder}
   */
  public ExecutionServices.Builder applyTo(ExecutionServices.Builder builder) {
    return builder
        .defaultTimeout(defaultTimeout)
        .maxTimeout(maxTimeout)
        .maxCompletedOperations(maxCompletedOperations)
        .maxCompletedOperationBytes(maxCompletedOperationBytes)
        .maxOperationsPerExecution(maxOperationsPerExecution)
        .reattachGrace(reattachGrace);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ExecutionConfig that
        && scheduler.equals(that.scheduler)
        && defaultTimeout.equals(that.defaultTimeout)
        && maxTimeout.equals(that.maxTimeout)
        && maxCompletedOperations == that.maxCompletedOperations
        && maxCompletedOperationBytes == that.maxCompletedOperationBytes
        && maxOperationsPerExecution == that.maxOperationsPerExecution
        && reattachGrace.equals(that.reattachGrace);
  }

  @Override
  public int hashCode() {
    return Objects.hash(
        scheduler,
        defaultTimeout,
        maxTimeout,
        maxCompletedOperations,
        maxCompletedOperationBytes,
        maxOperationsPerExecution,
        reattachGrace);
  }

  @Override
  public String toString() {
    return "ExecutionConfig{scheduler="
        + scheduler
        + ", defaultTimeout="
        + ConfigValues.format(defaultTimeout)
        + ", maxTimeout="
        + ConfigValues.format(maxTimeout)
        + ", maxCompletedOperations="
        + maxCompletedOperations
        + ", maxCompletedOperationBytes="
        + maxCompletedOperationBytes
        + ", maxOperationsPerExecution="
        + maxOperationsPerExecution
        + ", reattachGrace="
        + ConfigValues.format(reattachGrace)
        + "}";
  }
}
