package build.hearth.core.scheduler;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * What a scheduler operation decided under the lock and must carry out after releasing it: waking
 * worker mailboxes and completing result futures, whose dependent stages run user code. Used by one
 * thread.
 */
final class Effects {
  private final Set<Mailbox> mailboxes = new LinkedHashSet<>();
  private final List<Runnable> outcomes = new ArrayList<>();
  private final List<Runnable> events = new ArrayList<>();

  void wake(Mailbox mailbox) {
    mailboxes.add(mailbox);
  }

  <R> void succeed(CompletableFuture<R> future, R value) {
    outcomes.add(() -> future.complete(value));
  }

  void fail(CompletableFuture<?> future, Throwable error) {
    outcomes.add(() -> future.completeExceptionally(error));
  }

  /** A call to the {@link SchedulerListener}, which must catch what it throws. */
  void event(Runnable event) {
    events.add(event);
  }

  /**
   * Runs everything; call it with no lock held. Workers first, so they start without delay; the
   * listener last, since nobody waits for it.
   */
  void run() {
    for (Mailbox mailbox : mailboxes) {
      mailbox.schedule();
    }
    for (Runnable outcome : outcomes) {
      outcome.run();
    }
    for (Runnable event : events) {
      event.run();
    }
  }
}
