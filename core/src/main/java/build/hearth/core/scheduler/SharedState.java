package build.hearth.core.scheduler;

import build.hearth.spi.scheduler.SchedulerState;
import java.time.Duration;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;

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
 * @param warmKeys the {@code persistentWorkerKey}s for which a worker of this server holds an idle
 *     process now, by worker name (the server's {@link WarmWorkers#idle}); published with the
 *     worker's registration so that every server routes such actions to warm workers first
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
    Duration retention,
    Function<String, Set<String>> warmKeys) {

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
   * @param warmKeys the warm persistent-worker keys of this server's workers, by name
   */
  public SharedState {
    Objects.requireNonNull(state, "state");
    Objects.requireNonNull(serverId, "serverId");
    Objects.requireNonNull(tasks, "tasks");
    Objects.requireNonNull(results, "results");
    Objects.requireNonNull(onResult, "onResult");
    Objects.requireNonNull(lease, "lease");
    Objects.requireNonNull(retention, "retention");
    Objects.requireNonNull(warmKeys, "warmKeys");
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

  /**
   * A shared state whose workers report no warm persistent-worker processes.
   *
   * @param state the shared state
   * @param serverId this server's name in the state
   * @param tasks the task codec
   * @param results the result codec
   * @param onResult the result hook
   * @param lease the workers' lease
   * @param retention how long results stay readable
   */
  public SharedState(
      SchedulerState state,
      String serverId,
      StateCodec<T> tasks,
      StateCodec<R> results,
      ResultHook<T, R> onResult,
      Duration lease,
      Duration retention) {
    this(state, serverId, tasks, results, onResult, lease, retention, worker -> Set.of());
  }
}
