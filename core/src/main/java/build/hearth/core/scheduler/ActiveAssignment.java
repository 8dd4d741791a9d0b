package build.hearth.core.scheduler;

import build.hearth.api.HearthException;
import java.util.Objects;

/** One attempt of an action on one worker. {@link #state} is written under the scheduler's lock. */
final class ActiveAssignment<T, R> implements Assignment<T, R> {
  enum State {
    /** Holds a slot; the answer becomes the action's outcome. */
    ACTIVE,
    /** Holds a slot until the worker answers; the answer is discarded. */
    CANCELLED,
    /** The worker is gone, and the slot with it; the answer is discarded. */
    REVOKED,
    /** Answered. */
    FINISHED
  }

  private final DefaultScheduler<T, R> scheduler;
  final QueuedAction<T, R> action;
  final WorkerState<T, R> worker;
  private final int attempt;
  volatile State state = State.ACTIVE;
  // Only touched by the worker's mailbox loop, which is serial.
  volatile boolean delivered;
  // When it was started and when the worker must have answered, on the scheduler's ticker, and its
  // place in the scheduler's deadline order; Long.MAX_VALUE for no deadline. Written under the
  // lock.
  long startedAtNanos;
  long deadlineNanos = Long.MAX_VALUE;
  long sequence;

  ActiveAssignment(
      DefaultScheduler<T, R> scheduler, QueuedAction<T, R> action, WorkerState<T, R> worker) {
    this.scheduler = scheduler;
    this.action = action;
    this.worker = worker;
    this.attempt = action.attempt;
  }

  @Override
  public ActionRequest<T> request() {
    return action.request;
  }

  @Override
  public int attempt() {
    return attempt;
  }

  @Override
  public boolean isCancelled() {
    return state != State.ACTIVE;
  }

  @Override
  public boolean complete(R result) {
    Objects.requireNonNull(result, "result");
    return scheduler.answer(this, result, null);
  }

  @Override
  public boolean fail(HearthException error) {
    Objects.requireNonNull(error, "error");
    return scheduler.answer(this, null, error);
  }

  @Override
  public String toString() {
    return "Assignment{"
        + action.request.name()
        + " on "
        + worker.spec().name()
        + ", "
        + state
        + "}";
  }
}
