package build.hearth.core.scheduler;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * The scheduler's record of a submitted action, handed to the submitter as its {@link Ticket}.
 * Fields other than the final ones and {@link #stage} are guarded by the scheduler's lock.
 */
final class QueuedAction<T, R> implements Ticket<R> {
  /** Lower priority number first; within a priority, actions that lost a worker; then FIFO. */
  static final Comparator<QueuedAction<?, ?>> DISPATCH_ORDER =
      Comparator.<QueuedAction<?, ?>>comparingInt(action -> action.request.priority())
          .thenComparing(action -> !action.requeued)
          .thenComparingLong(action -> action.sequence);

  private final DefaultScheduler<T, R> scheduler;
  final ActionRequest<T> request;
  final Requirements requirements;
  final CompletableFuture<R> result = new CompletableFuture<>();

  // Written under the lock; volatile so that stage() and the result hook can read it without it.
  volatile Stage stage = Stage.QUEUED;

  long sequence;
  boolean requeued;
  int attempt = 1;
  long enqueuedAtMillis;
  ActionQueue<T, R> queue;
  ActiveAssignment<T, R> current;
  final List<String> lostWith = new ArrayList<>(0);
  // Null until the first listener arrives. The list is replaced, never changed, so an event posted
  // under the lock keeps the listeners it was posted for.
  List<Consumer<Stage>> stageListeners;
  Mailbox stageEvents;

  QueuedAction(DefaultScheduler<T, R> scheduler, ActionRequest<T> request, Requirements reqs) {
    this.scheduler = scheduler;
    this.request = request;
    this.requirements = reqs;
    // Whoever completes the future from outside (cancel(true), complete(...)) cancels the action.
    result.whenComplete(
        (value, error) -> {
          if (stage != Stage.COMPLETED) {
            scheduler.cancel(this, false);
          }
        });
  }

  Requirements.Key key() {
    return requirements.key();
  }

  @Override
  public String name() {
    return request.name();
  }

  @Override
  public CompletableFuture<R> result() {
    return result;
  }

  @Override
  public Stage stage() {
    return stage;
  }

  @Override
  public void addStageListener(Consumer<Stage> listener) {
    scheduler.addStageListener(this, listener);
  }

  @Override
  public boolean cancel() {
    return scheduler.cancel(this, true);
  }

  @Override
  public String toString() {
    return "Ticket{" + request.name() + ", " + stage + "}";
  }
}
