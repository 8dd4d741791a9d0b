package build.hearth.api;

import java.time.Duration;
import java.util.Objects;

/**
 * The limits a persistent-worker pool applies to the processes of one key. The pool asks for them
 * once per key, so configuration can give each tool its own.
 *
 * <pre>{@code
 * PoolLimits javac = PoolLimits.newBuilder()
 *     .maxProcessesPerKey(4)
 *     .memoryLimitBytes(2L << 30)
 *     .idleTimeout(Duration.ofMinutes(10))
 *     .build();
 * }</pre>
 *
 * <p>Immutable and thread-safe. The constructor and the builder's setters throw {@link
 * IllegalArgumentException} for a value out of range.
 *
 * @param maxProcessesPerKey how many processes of the key may be alive at once, counting those
 *     starting and those still shutting down; at least 1, {@value #DEFAULT_MAX_PROCESSES_PER_KEY}
 *     by default
 * @param maxRequestsPerProcess after how many requests a process retires ({@link
 *     RetirementReason#MAX_REQUESTS}); 0, the default, means never
 * @param memoryLimitBytes a process whose resident memory, read after a request, is above this
 *     retires ({@link RetirementReason#MEMORY}); 0, the default, means no limit
 * @param idleTimeout a process idle for longer than this retires ({@link RetirementReason#IDLE}); 5
 *     minutes by default; zero means never
 * @param maxInFlightPerMultiplexProcess how many requests a multiplex process serves at once; at
 *     least 1, {@value #DEFAULT_MAX_IN_FLIGHT} by default; ignored for singleplex keys, whose
 *     processes serve one request at a time
 * @param atCapacity what the pool's acquire does when no process can take a request and no other
 *     may start; {@link AtCapacity#WAIT} by default
 */
public record PoolLimits(
    int maxProcessesPerKey,
    long maxRequestsPerProcess,
    long memoryLimitBytes,
    Duration idleTimeout,
    int maxInFlightPerMultiplexProcess,
    AtCapacity atCapacity) {

  /** The default of {@link #maxProcessesPerKey}. */
  public static final int DEFAULT_MAX_PROCESSES_PER_KEY = 10;

  /** The default of {@link #maxInFlightPerMultiplexProcess}. */
  public static final int DEFAULT_MAX_IN_FLIGHT = 8;

  /** The default of {@link #idleTimeout}. */
  public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofMinutes(5);

  /** Every limit at its default. */
  public static final PoolLimits DEFAULTS = newBuilder().build();

  /** What an acquire does when every process of a key is busy and no other may start. */
  public enum AtCapacity {
    /** Wait, up to the time the caller allows, until a process is released or retires. */
    WAIT,
    /** Return at once with a lease that says to run the action as an ordinary, one-shot process. */
    ONE_SHOT
  }

  /**
   * Checks every limit.
   *
   * @param maxProcessesPerKey the {@code maxProcessesPerKey} component, as described above
   * @param maxRequestsPerProcess the {@code maxRequestsPerProcess} component, as described above
   * @param memoryLimitBytes the {@code memoryLimitBytes} component, as described above
   * @param idleTimeout the {@code idleTimeout} component, as described above
   * @param maxInFlightPerMultiplexProcess the {@code maxInFlightPerMultiplexProcess} component, as
   *     described above
   * @param atCapacity the {@code atCapacity} component, as described above
   * @throws IllegalArgumentException if a limit is below its minimum or the idle timeout is
   *     negative
   * @throws NullPointerException if {@code idleTimeout} or {@code atCapacity} is null
   */
  public PoolLimits {
    Objects.requireNonNull(idleTimeout, "idleTimeout");
    Objects.requireNonNull(atCapacity, "atCapacity");
    checkAtLeast("maxProcessesPerKey", maxProcessesPerKey, 1);
    checkAtLeast("maxRequestsPerProcess", maxRequestsPerProcess, 0);
    checkAtLeast("memoryLimitBytes", memoryLimitBytes, 0);
    checkAtLeast("maxInFlightPerMultiplexProcess", maxInFlightPerMultiplexProcess, 1);
    if (idleTimeout.isNegative()) {
      throw new IllegalArgumentException("idleTimeout must not be negative: " + idleTimeout);
    }
  }

  /** {@return a builder with every limit at its default} */
  public static Builder newBuilder() {
    return new Builder();
  }

  /** {@return a builder that starts from these limits, to derive others from them} */
  public Builder toBuilder() {
    return new Builder()
        .maxProcessesPerKey(maxProcessesPerKey)
        .maxRequestsPerProcess(maxRequestsPerProcess)
        .memoryLimitBytes(memoryLimitBytes)
        .idleTimeout(idleTimeout)
        .maxInFlightPerMultiplexProcess(maxInFlightPerMultiplexProcess)
        .atCapacity(atCapacity);
  }

  private static void checkAtLeast(String name, long value, long minimum) {
    if (value < minimum) {
      throw new IllegalArgumentException(
          name + " must be at least " + minimum + ", but is " + value);
    }
  }

  /**
   * Builds {@link PoolLimits}. Each setter checks its argument and throws {@link
   * IllegalArgumentException} for a bad one. Not thread-safe.
   */
  public static final class Builder {
    private int maxProcessesPerKey = DEFAULT_MAX_PROCESSES_PER_KEY;
    private long maxRequestsPerProcess;
    private long memoryLimitBytes;
    private Duration idleTimeout = DEFAULT_IDLE_TIMEOUT;
    private int maxInFlightPerMultiplexProcess = DEFAULT_MAX_IN_FLIGHT;
    private AtCapacity atCapacity = AtCapacity.WAIT;

    private Builder() {}

    /**
     * Sets {@link PoolLimits#maxProcessesPerKey()}.
     *
     * @param value the new limit
     * @return this builder
     */
    public Builder maxProcessesPerKey(int value) {
      checkAtLeast("maxProcessesPerKey", value, 1);
      this.maxProcessesPerKey = value;
      return this;
    }

    /**
     * Sets {@link PoolLimits#maxRequestsPerProcess()}.
     *
     * @param value the new limit
     * @return this builder
     */
    public Builder maxRequestsPerProcess(long value) {
      checkAtLeast("maxRequestsPerProcess", value, 0);
      this.maxRequestsPerProcess = value;
      return this;
    }

    /**
     * Sets {@link PoolLimits#memoryLimitBytes()}.
     *
     * @param value the new limit
     * @return this builder
     */
    public Builder memoryLimitBytes(long value) {
      checkAtLeast("memoryLimitBytes", value, 0);
      this.memoryLimitBytes = value;
      return this;
    }

    /**
     * Sets {@link PoolLimits#idleTimeout()}.
     *
     * @param value the new limit
     * @return this builder
     */
    public Builder idleTimeout(Duration value) {
      Objects.requireNonNull(value, "idleTimeout");
      if (value.isNegative()) {
        throw new IllegalArgumentException("idleTimeout must not be negative: " + value);
      }
      this.idleTimeout = value;
      return this;
    }

    /**
     * Sets {@link PoolLimits#maxInFlightPerMultiplexProcess()}.
     *
     * @param value the new limit
     * @return this builder
     */
    public Builder maxInFlightPerMultiplexProcess(int value) {
      checkAtLeast("maxInFlightPerMultiplexProcess", value, 1);
      this.maxInFlightPerMultiplexProcess = value;
      return this;
    }

    /**
     * Sets {@link PoolLimits#atCapacity()}.
     *
     * @param value the new limit
     * @return this builder
     */
    public Builder atCapacity(AtCapacity value) {
      this.atCapacity = Objects.requireNonNull(value, "atCapacity");
      return this;
    }

    /** {@return the limits} */
    public PoolLimits build() {
      return new PoolLimits(
          maxProcessesPerKey,
          maxRequestsPerProcess,
          memoryLimitBytes,
          idleTimeout,
          maxInFlightPerMultiplexProcess,
          atCapacity);
    }
  }
}
