package build.hearth.core.scheduler;

/**
 * A worker's connection to the scheduler, returned by {@link Scheduler#connect}.
 *
 * <p>Thread-safe.
 */
public interface WorkerSession {

  /** The name the worker connected with. */
  String name();

  /**
   * Whether the scheduler still counts on this worker; false after {@link #disconnect()}, after the
   * worker's listener threw, and after the scheduler closed.
   */
  boolean isConnected();

  /**
   * Marks the worker as draining: the scheduler assigns it nothing new from now on, and the actions
   * queued for want of a worker go to others (or wait for one). What it runs stays assigned to it,
   * and its answers count as usual. Once every assignment made before has been handed to the
   * worker's listener, the listener hears {@link WorkerListener#drained()}, so that the worker
   * knows when nothing more can arrive. Draining cannot be undone; a worker that wants work again
   * connects anew. Idempotent; does nothing after {@link #disconnect()}.
   */
  void drain();

  /** Whether {@link #drain()} was called. */
  boolean isDraining();

  /**
   * Ends the connection. Actions the worker is running are queued again (and fail with UNAVAILABLE
   * once they have been lost too often); answers the worker gives for them afterwards are
   * discarded. The listener is not called for them. Idempotent.
   */
  void disconnect();
}
