package build.hearth.core.config;

import java.util.Objects;

/**
 * A server's worker API: workers in other processes (started with {@code hearth worker
 * --scheduler-endpoint}) connect to the server's port and join the named scheduler.
 *
 * <p>Built only by {@link HearthConfig}'s readers, which have checked that the scheduler is
 * defined. Immutable and thread-safe.
 */
public final class WorkerApiConfig {
  private final String scheduler;

  WorkerApiConfig(String scheduler) {
    this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
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
    return o instanceof WorkerApiConfig that && scheduler.equals(that.scheduler);
  }

  @Override
  public int hashCode() {
    return scheduler.hashCode();
  }

  @Override
  public String toString() {
    return "WorkerApiConfig{scheduler=" + scheduler + "}";
  }
}
