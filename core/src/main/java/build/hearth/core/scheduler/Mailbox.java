package build.hearth.core.scheduler;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The serial hand-off from the scheduler to one worker's listener. The scheduler posts events while
 * it holds its lock, so their order is the order of its decisions, and {@linkplain #schedule
 * schedules} delivery after releasing it. At most one thread delivers at a time, so calls to one
 * listener never overlap; a listener that blocks delays only its own worker. An event posted while
 * a delivery is under way, even from inside a listener call, is delivered by that same loop rather
 * than by a nested one.
 *
 * <p>A ticket's stage listeners are served by a mailbox too, one whose executor is {@code
 * Runnable::run}: the thread that made a change tells it, unless another is already telling.
 *
 * <p>Thread-safe.
 */
final class Mailbox {
  private static final Logger logger = LoggerFactory.getLogger(Mailbox.class);

  private final String owner;
  private final Executor executor;
  private final Queue<Runnable> events = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean scheduled = new AtomicBoolean();

  Mailbox(String owner, Executor executor) {
    this.owner = owner;
    this.executor = executor;
  }

  void post(Runnable event) {
    events.add(event);
  }

  /** Makes sure a delivery loop will see every event posted so far. */
  void schedule() {
    if (events.isEmpty() || !scheduled.compareAndSet(false, true)) {
      return;
    }
    try {
      executor.execute(this::drain);
    } catch (RejectedExecutionException e) {
      // Only after the scheduler closed its own executor: nobody is left to tell.
      scheduled.set(false);
      events.clear();
      logger.debug("dropped calls to worker '{}': the callback executor is shut down", owner);
    }
  }

  private void drain() {
    while (true) {
      Runnable event;
      while ((event = events.poll()) != null) {
        try {
          event.run();
        } catch (Throwable t) {
          logger.warn("a call to worker '{}' failed", owner, t);
        }
      }
      scheduled.set(false);
      // An event posted between the last poll and the reset found the loop still marked as
      // scheduled and returned; take it over unless another thread already has.
      if (events.isEmpty() || !scheduled.compareAndSet(false, true)) {
        return;
      }
    }
  }
}
