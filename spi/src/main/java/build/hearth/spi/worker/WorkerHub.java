package build.hearth.spi.worker;

import java.time.Duration;
import java.util.Optional;
import java.util.Set;

/**
 * A scheduler, as seen by workers that run in other processes and join it through a transport's
 * worker API. The host (the server, or an embedder) offers one in {@link
 * build.hearth.spi.transport.TransportContext#workerHub()}; the transport calls {@link #connect}
 * once per registered worker connection and forwards assignments and cancellations over its wire.
 *
 * <p>Permission: a transport must only connect callers that may act as workers; a worker sees every
 * {@code Command} assigned to it and its answers are cached. Everything a worker sends arrives here
 * parsed but not trusted: the hub refuses a spec the scheduler cannot accept or that is over its
 * bounds (too many slots or properties, names or values too long: INVALID_ARGUMENT), a report it
 * cannot read fails with INVALID_ARGUMENT and leaves the worker connected ({@link
 * RemoteWorker#reportStatus}), and the transport bounds the size of every message.
 *
 * <p>Thread-safe.
 */
public interface WorkerHub {
  /** The default of {@link #maxAssignmentBytes()}: 33 MiB. */
  int DEFAULT_MAX_ASSIGNMENT_BYTES = (32 << 20) + (1 << 20);

  /** {@return the scheduler's name in the configuration, as reports and logs name it} */
  String schedulerName();

  /**
   * Connects a worker to the scheduler. From now on the scheduler may call {@code listener} with
   * assignments (on its own threads, never concurrently for one worker) until the worker
   * disconnects.
   *
   * @param spec the worker's name, properties and slots
   * @param listener receives the scheduler's assignments and cancellations for this worker
   * @return the connection; {@link RemoteWorker#disconnect()} returns the worker's running actions
   *     to the queue
   * @throws build.hearth.api.HearthException INVALID_ARGUMENT for a bad spec (for example a
   *     non-numeric value of a minimum property), ALREADY_EXISTS if a worker of that name is
   *     connected, UNAVAILABLE if the scheduler is closed
   */
  RemoteWorker connect(WorkerSpec spec, AssignmentListener listener);

  /**
   * Connects a worker that re-attaches, its earlier server gone, still running the assignments
   * named {@code running} (their {@link WorkAssignment#id()}s). A hub that {@linkplain
   * #reattachGrace() keeps a lost worker's actions} takes over those that are still this worker's
   * and lists them in {@link RemoteWorker#adopted()}: the transport accepts the worker's answers to
   * them as to any assignment. Ids of other workers' actions, or of none, are not adopted. By
   * default nothing is adopted.
   *
   * @param spec the worker's name, properties and slots
   * @param running ids of the assignments the worker still runs, at most its slots
   * @param listener receives the scheduler's assignments and cancellations for this worker
   * @return the connection
   * @throws build.hearth.api.HearthException as {@link #connect(WorkerSpec, AssignmentListener)},
   *     and INVALID_ARGUMENT if {@code running} names more ids than the worker has slots, or an id
   *     over the bounds
   */
  default RemoteWorker connect(WorkerSpec spec, Set<String> running, AssignmentListener listener) {
    return connect(spec, listener);
  }

  /**
   * {@return how long this hub keeps the actions of a worker whose connection ended, for the worker
   * to re-attach through any server of the service and deliver their results; empty (the default)
   * when they are queued again at once} When present, assignment ids are stable across servers
   * ({@link WorkAssignment#id()}), and a transport tells its workers so at registration.
   */
  default Optional<Duration> reattachGrace() {
    return Optional.empty();
  }

  /**
   * {@return the largest assignment message a transport sends a worker of this hub, in bytes; 33
   * MiB by default, room for an Action and a Command of up to 16 MiB each} A transport sends a
   * worker nothing larger than this, nor than the worker says it accepts; an action whose
   * assignment is larger fails alone with INVALID_ARGUMENT.
   */
  default int maxAssignmentBytes() {
    return DEFAULT_MAX_ASSIGNMENT_BYTES;
  }
}
