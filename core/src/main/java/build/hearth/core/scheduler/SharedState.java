package build.hearth.core.scheduler;

import build.hearth.spi.scheduler.SchedulerState;
import java.time.Duration;
import java.util.Objects;

/**
 * What makes a scheduler one of a service's: the {@link SchedulerState} the servers share, this
 * server's name in it, and how tasks and results become the state's bytes. Given to {@link
 * SchedulerBuilder#build(SharedState)}.
 *
 * @param state the shared state; the scheduler does not close it
 * @param serverId this server's name in the state, unique among the service's live servers
 * @param tasks turns tasks into bytes and back, the same on every server
 * @param results turns results into bytes and back, the same on every server
 * @param onResult what the server that receives a worker's result does with it before publishing
 * @param lease how long a worker's registration lasts without renewal: the time a worker whose
 *     server died has to re-attach through another before its executions are queued again
 * @param retention how long a completed execution's result stays readable in the state
 * @param <T> the type of the tasks
 * @param <R> the type of the results
 */
public record SharedState<T, R>(
    SchedulerState state,
    String serverId,
    StateCodec<T> tasks,
    StateCodec<R> results,
    ResultHook<T, R> onResult,
    Duration lease,
    Duration retention) {

  /** The default {@link #lease}: 30 s, three of the worker API's default keep-alive intervals. */
  public static final Duration DEFAULT_LEASE = Duration.ofSeconds(30);

  /**
   * Checks the values.
   *
   * @param state the shared state
   * @param serverId this server's name in the state
   * @param tasks the task codec
   * @param results the result codec
   * @param onResult the result hook
   * @param lease the workers' lease
   * @param retention how long results stay readable
   */
  public SharedState {
    Objects.requireNonNull(state, "state");
    Objects.requireNonNull(serverId, "serverId");
    Objects.requireNonNull(tasks, "tasks");
    Objects.requireNonNull(results, "results");
    Objects.requireNonNull(onResult, "onResult");
    Objects.requireNonNull(lease, "lease");
    Objects.requireNonNull(retention, "retention");
    if (serverId.isEmpty()) {
      throw new IllegalArgumentException("serverId is empty");
    }
    if (lease.isNegative() || lease.isZero()) {
      throw new IllegalArgumentException("lease must be positive: " + lease);
    }
    if (retention.isNegative() || retention.isZero()) {
      throw new IllegalArgumentException("retention must be positive: " + retention);
    }
  }
}
