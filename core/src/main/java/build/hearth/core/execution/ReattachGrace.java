package build.hearth.core.execution;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * How long an execution that nobody watches any more waits for a client to re-attach before it is
 * cancelled, and the timer that measures it. A Bazel whose Execute stream broke calls WaitExecution
 * a moment later; without the grace it would find its action cancelled.
 *
 * <p>The default timer is the JDK's shared delayer ({@link CompletableFuture#delayedExecutor}),
 * which holds no state of ours, so that the execution service still owns no thread.
 */
final class ReattachGrace {
  private final Duration grace;
  private final ScheduledExecutorService timer;

  /**
   * @param grace how long to wait; zero cancels at once
   * @param timer the timer to wait on, or null for the JDK's shared delayer
   */
  ReattachGrace(Duration grace, ScheduledExecutorService timer) {
    this.grace = grace;
    this.timer = timer;
  }

  /** Runs {@code check} once the grace has passed, or at once on this thread when it is zero. */
  void afterGrace(Runnable check) {
    if (grace.isZero()) {
      check.run();
    } else if (timer != null) {
      timer.schedule(check, grace.toNanos(), TimeUnit.NANOSECONDS);
    } else {
      CompletableFuture.delayedExecutor(grace.toNanos(), TimeUnit.NANOSECONDS).execute(check);
    }
  }

  Duration duration() {
    return grace;
  }
}
