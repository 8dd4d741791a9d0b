package build.hearth.spi.worker;

import build.hearth.proto.workerapi.PersistentPoolStats;
import build.hearth.proto.workerapi.SandboxReport;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A worker connected through a {@link WorkerHub}: what its transport reports on its behalf, and how
 * it leaves.
 *
 * <p>Thread-safe; after {@link #disconnect()} reports are ignored.
 */
public interface RemoteWorker {

  /** {@return the worker's name, as it registered} */
  String name();

  /**
   * Records the worker's idle persistent-worker processes, so the scheduler can route actions of
   * those keys to it. Replaces the previous report.
   *
   * @param idleByClientKey the client's {@code persistentWorkerKey} to the number of idle processes
   *     of that key; keys with no idle process may be left out
   * @return false if the worker is no longer connected and the report was dropped
   * @throws build.hearth.api.HearthException INVALID_ARGUMENT if the report is over the hub's
   *     bounds (too many keys, or a key too long); the transport then disconnects the worker
   */
  boolean reportWarmProcesses(Map<String, Integer> idleByClientKey);

  /**
   * Records the worker's status as of now, listed by the server (for example in {@code hearth admin
   * worker-stats} and {@code /metrics}) until the worker disconnects. A worker is listed from its
   * connection on, also before its first report.
   *
   * @param persistentWorkers its persistent-worker pool's statistics as the worker API carries
   *     them, or empty if it has none (persistent workers disabled, or an older worker)
   * @throws build.hearth.api.HearthException INVALID_ARGUMENT if the statistics cannot be read; the
   *     worker stays connected
   */
  void reportStatus(Optional<PersistentPoolStats> persistentWorkers);

  /**
   * Records what the worker's sandbox does on its machine, as it said when it registered; listed
   * with the worker (in {@code hearth admin status} and {@code /admin/v1/status}) until it
   * disconnects. Does nothing by default, for hubs that keep no reports.
   *
   * @param sandbox the worker's report as the worker API carries it
   * @throws build.hearth.api.HearthException INVALID_ARGUMENT if the report is over the hub's
   *     bounds; the worker stays connected
   */
  default void reportSandbox(SandboxReport sandbox) {}

  /**
   * Marks the worker as draining, as it said it is stopping: it is assigned nothing new, and what
   * it runs stays with it until it answers or disconnects. Once the assignments made before are on
   * their way, the worker's listener hears {@link AssignmentListener#drainAccepted()}. Idempotent.
   * Does nothing by default, for hubs whose workers cannot drain (they are then assigned work until
   * they disconnect, and never hear drainAccepted).
   */
  default void drain() {}

  /**
   * Disconnects the worker: its running actions go back to the queue (a bounded number of times)
   * and it is no longer listed. Idempotent.
   */
  void disconnect();

  /**
   * {@return the assignments this worker still ran when it re-attached, taken over by {@link
   * WorkerHub#connect(WorkerSpec, java.util.Set, AssignmentListener)}} They are not assigned again;
   * the transport accepts the worker's answers to them by their {@link WorkAssignment#id()}. Empty
   * by default.
   */
  default List<WorkAssignment> adopted() {
    return List.of();
  }
}
