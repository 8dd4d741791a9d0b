package build.hearth.core.scheduler;

import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * A submitted action: its stage and the future of its outcome.
 *
 * <p>The {@linkplain #result() result} completes exactly once: with the value a worker reported, or
 * exceptionally with a {@link build.hearth.api.HearthException} whose code says why:
 *
 * <ul>
 *   <li>INVALID_ARGUMENT: the platform names a property the scheduler has no type for, or gives a
 *       {@link PropertyType#MINIMUM} property a value that is not a number;
 *   <li>FAILED_PRECONDITION: workers are connected, but none of them can ever run the action; the
 *       message names the property and the values the workers offer;
 *   <li>UNAVAILABLE: the action waited longer than the maximum queue time, was lost with its worker
 *       more often than the retry limit allows, or the scheduler was closed;
 *   <li>CANCELLED: someone {@linkplain #cancel() cancelled} it;
 *   <li>whatever the worker reported with {@link Assignment#fail}.
 * </ul>
 *
 * <p>Completing or cancelling the returned future from outside has the same effect as {@link
 * #cancel()}. Dependent stages that are not {@code *Async} run on the thread that completes the
 * future, which may be a worker's thread; keep them short or use the async variants.
 *
 * <p>Thread-safe.
 *
 * @param <R> the type of the result a worker reports
 */
public interface Ticket<R> {

  /** Where an action is in its life, as REAPI's {@code ExecutionStage} would report it. */
  enum Stage {
    /** Waiting for a worker; also after its worker was lost and it was queued again. */
    QUEUED,
    /** Assigned to a worker. */
    EXECUTING,
    /** Finished with a result or an error; the stage never changes again. */
    COMPLETED
  }

  /** The {@link ActionRequest#name()} this ticket was submitted with. */
  String name();

  /**
   * {@return the {@link ActionRequest#mergeKey()} of the execution this ticket follows} Empty by
   * default, and for executions that merge with none. A ticket from {@link Scheduler#follow} has it
   * from the shared state, since its holder did not submit the request.
   */
  default String mergeKey() {
    return "";
  }

  /** The outcome; see the class documentation for the errors. */
  CompletableFuture<R> result();

  /** The current stage; it may change as soon as it has been read. */
  Stage stage();

  /**
   * Calls {@code listener} with the current stage, then with each change of stage until COMPLETED,
   * which is the last call. The stage may go back from EXECUTING to QUEUED when the worker is lost.
   *
   * <p>Calls are made with no scheduler lock held, on the thread that caused the change (or on one
   * that is already calling this ticket's listeners), so they may call back into the scheduler;
   * they should return quickly. Calls for one ticket never overlap and always arrive in the order
   * of the changes, even when the changes happen on different threads. An exception the listener
   * throws is logged and otherwise ignored.
   */
  void addStageListener(Consumer<Stage> listener);

  /**
   * Cancels the action: a queued action leaves the queue, and the worker running an executing one
   * is told with {@link WorkerListener#cancel}. The result completes with CANCELLED.
   *
   * @return false if the action had already completed
   */
  boolean cancel();
}
