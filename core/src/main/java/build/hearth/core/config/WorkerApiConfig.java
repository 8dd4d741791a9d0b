package build.hearth.core.config;

import build.hearth.spi.worker.WorkerHub;
import java.util.Objects;

/**
 * A server's worker API: workers in other processes (started with {@code hearth worker
 * --scheduler-endpoint}) connect to the server's port and join the named scheduler.
 *
 * <p>Built only by {@link HearthConfig}'s readers, which have checked that the scheduler is
 * defined. Immutable and thread-safe.
 */
public final class WorkerApiConfig {
  /**
   * The largest assignment sent to a worker when the file does not say: 33 MiB, room for an Action
   * and a Command of up to 16 MiB each (what the execution service reads).
   */
  public static final long DEFAULT_MAX_ASSIGNMENT_BYTES = WorkerHub.DEFAULT_MAX_ASSIGNMENT_BYTES;

  /** The smallest {@code maxAssignmentSize}: 4 MiB, the least a worker accepts. */
  public static final long MIN_MAX_ASSIGNMENT_BYTES = 4L << 20;

  private final String scheduler;
  private final int maxAssignmentBytes;

  WorkerApiConfig(String scheduler) {
    this(scheduler, (int) DEFAULT_MAX_ASSIGNMENT_BYTES);
  }

  WorkerApiConfig(String scheduler, int maxAssignmentBytes) {
    this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
    this.maxAssignmentBytes = maxAssignmentBytes;
  }

  /**
   * {@return the largest assignment message sent to a worker, in bytes} A worker that accepts less
   * (its {@code maxMessageSize}, told at registration) is sent nothing larger than that instead; an
   * action whose assignment exceeds the bound fails alone with INVALID_ARGUMENT.
   */
  public int maxAssignmentBytes() {
    return maxAssignmentBytes;
  }

  /**
   * {@return the name of the {@link HearthConfig#schedulers() scheduler} that connecting workers
   * join}
   */
  public String scheduler() {
    return scheduler;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof WorkerApiConfig that
        && scheduler.equals(that.scheduler)
        && maxAssignmentBytes == that.maxAssignmentBytes;
  }

  @Override
  public int hashCode() {
    return Objects.hash(scheduler, maxAssignmentBytes);
  }

  @Override
  public String toString() {
    return "WorkerApiConfig{scheduler="
        + scheduler
        + ", maxAssignmentBytes="
        + maxAssignmentBytes
        + "}";
  }
}
