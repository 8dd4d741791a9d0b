package build.hearth.spi.worker;

/**
 * Receives a connected worker's share of the scheduler's work. The scheduler calls it on its own
 * threads, one call at a time per worker, and never while holding its locks, so an implementation
 * may send over a network without blocking the scheduler for long.
 */
public interface AssignmentListener {

  /**
   * Hands the worker an action to run. The worker answers it later, exactly once, with {@link
   * WorkAssignment#complete} or {@link WorkAssignment#fail}.
   *
   * @param assignment the action and its answer
   * @throws RuntimeException if the worker cannot take it (say, its connection is closing); the
   *     scheduler then disconnects the worker and re-queues the action
   */
  void assign(WorkAssignment assignment);

  /**
   * Asks the worker to stop an action it was assigned, because no client wants it any more. The
   * worker still answers it (typically CANCELLED). Does nothing by default.
   *
   * @param assignment an assignment given to {@link #assign} before
   */
  default void cancel(WorkAssignment assignment) {}

  /**
   * Tells the worker that its {@link RemoteWorker#drain()} took effect: this call comes after every
   * {@link #assign} the scheduler made before it, and no {@link #assign} follows (a {@link #cancel}
   * of what the worker holds still may). A worker that has answered everything it holds may then
   * disconnect without losing an assignment on its way. Called at most once. Does nothing by
   * default.
   */
  default void drainAccepted() {}
}
