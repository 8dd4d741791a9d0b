package build.hearth.core.config;

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

  private final String scheduler;
  private final Duration defaultTimeout;
  private final Duration maxTimeout;

  ExecutionConfig(String scheduler, Duration defaultTimeout, Duration maxTimeout) {
    this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
    this.defaultTimeout = Objects.requireNonNull(defaultTimeout, "defaultTimeout");
    this.maxTimeout = Objects.requireNonNull(maxTimeout, "maxTimeout");
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

  @Override
  public boolean equals(Object o) {
    return o instanceof ExecutionConfig that
        && scheduler.equals(that.scheduler)
        && defaultTimeout.equals(that.defaultTimeout)
        && maxTimeout.equals(that.maxTimeout);
  }

  @Override
  public int hashCode() {
    return Objects.hash(scheduler, defaultTimeout, maxTimeout);
  }

  @Override
  public String toString() {
    return "ExecutionConfig{scheduler="
        + scheduler
        + ", defaultTimeout="
        + ConfigValues.format(defaultTimeout)
        + ", maxTimeout="
        + ConfigValues.format(maxTimeout)
        + "}";
  }
}
