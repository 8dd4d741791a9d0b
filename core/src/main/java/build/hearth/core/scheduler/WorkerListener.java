package build.hearth.core.scheduler;

/**
 * What the scheduler tells a connected worker. An in-process worker implements it directly; the
 * gRPC worker service implements it by writing to the worker's stream.
 *
 * <p>Calls for one worker never overlap and arrive in the order the scheduler made its decisions,
 * so an assignment always arrives before its cancellation. They are made on the scheduler's
 * callback executor with no scheduler lock held; a call may therefore call back into the scheduler,
 * for instance to answer an assignment at once. Calls should still return quickly: while one runs,
 * the next call to the same worker waits.
 *
 * <p>If {@link #assign} throws, the scheduler treats the worker as lost: it disconnects it and
 * queues its actions again.
 *
 * @param <T> the type of the task
 * @param <R> the type of the result
 */
public interface WorkerListener<T, R> {

  /** Runs {@code assignment} in one of the worker's slots; answer it through its methods. */
  void assign(Assignment<T, R> assignment);

  /**
   * The scheduler no longer wants the outcome of {@code assignment}; stop it if you can, and answer
   * it either way to free the slot. The default does nothing, so the action runs to its end and its
   * answer is discarded.
   */
  default void cancel(Assignment<T, R> assignment) {}

  /**
   * The worker's {@link WorkerSession#drain()} took effect: this call comes after every {@link
   * #assign} made before the scheduler marked it draining, and no {@link #assign} follows. Called
   * at most once, and not once the worker is disconnected. Does nothing by default.
   */
  default void drained() {}
}
