package build.hearth.core.scheduler;

import static build.hearth.core.scheduler.SchedulerTesting.action;
import static build.hearth.core.scheduler.SchedulerTesting.deterministic;
import static build.hearth.core.scheduler.SchedulerTesting.failure;
import static org.assertj.core.api.Assertions.assertThat;

import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import build.hearth.core.scheduler.SchedulerTesting.FakeWorker;
import build.hearth.spi.worker.WorkerSpec;
import build.hearth.testing.FakeClock;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A worker that holds an assignment past the action's timeout plus the grace loses it: it is told
 * to cancel, keeps the slot until it answers, and the action goes back to the queue or fails with
 * DEADLINE_EXCEEDED once the retries are used up. Time is a fake clock; expiry is run by hand.
 */
class AssignmentDeadlineTest {
  private static final Duration TIMEOUT = Duration.ofMinutes(1);
  private static final Duration GRACE = Duration.ofSeconds(30);

  private final FakeClock clock = new FakeClock();
  private Scheduler<String, String> scheduler =
      deterministic(clock).maxRetries(1).assignmentGrace(GRACE).build();

  @AfterEach
  void bookkeepingIsConsistent() {
    ((DefaultScheduler<?, ?>) scheduler).checkInvariants();
    scheduler.close();
  }

  private FakeWorker worker(String name) {
    return FakeWorker.connect(scheduler, WorkerSpec.builder(name).build());
  }

  private static ActionRequest<String> timed(String name) {
    return action(name).withTimeout(TIMEOUT);
  }

  @Test
  void anAssignmentIsKeptUntilItsDeadline() {
    FakeWorker worker = worker("slow");
    Ticket<String> ticket = scheduler.submit(timed("a"));

    clock.advance(TIMEOUT.plus(GRACE).minusMillis(1));
    assertThat(scheduler.expireOverdue()).isZero();

    assertThat(worker.finish("a")).isTrue();
    assertThat(ticket.result()).isCompletedWithValue("a-done");
    assertThat(scheduler.stats().overdue()).isZero();
  }

  @Test
  void aSilentWorkerLosesTheAssignmentToAnotherWorker() {
    FakeWorker hung = worker("hung");
    Ticket<String> ticket = scheduler.submit(timed("a"));
    Assignment<String, String> first = hung.get("a");

    clock.advance(TIMEOUT.plus(GRACE));
    assertThat(scheduler.expireOverdue()).isEqualTo(1);

    assertThat(hung.cancelled).containsExactly(first);
    assertThat(first.isCancelled()).isTrue();
    assertThat(ticket.stage()).isEqualTo(Ticket.Stage.QUEUED);
    SchedulerStats stats = scheduler.stats();
    assertThat(stats.overdue()).isEqualTo(1);
    assertThat(stats.requeued()).isEqualTo(1);
    // The hung worker keeps the slot until it answers, so it gets nothing more meanwhile.
    assertThat(stats.busySlots()).isEqualTo(1);
    assertThat(hung.assigned).hasSize(1);

    FakeWorker healthy = worker("healthy");
    assertThat(healthy.get("a").attempt()).isEqualTo(2);
    // The hung worker's late answer is discarded; it frees the slot.
    assertThat(first.complete("late")).isFalse();
    assertThat(healthy.finish("a")).isTrue();
    assertThat(ticket.result()).isCompletedWithValue("a-done");
    assertThat(scheduler.stats().busySlots()).isZero();
  }

  @Test
  void whenTheRetriesAreUsedUpTheActionFailsWithDeadlineExceeded() {
    FakeWorker first = worker("w1");
    Ticket<String> ticket = scheduler.submit(timed("a"));
    clock.advance(Duration.ofSeconds(95));
    scheduler.expireOverdue();
    FakeWorker second = worker("w2");
    assertThat(second.get("a").attempt()).isEqualTo(2);

    clock.advance(Duration.ofSeconds(90));
    assertThat(scheduler.expireOverdue()).isEqualTo(1);

    HearthException error = failure(ticket);
    assertThat(error.code()).isEqualTo(StatusCode.DEADLINE_EXCEEDED);
    assertThat(error.getMessage())
        .contains("worker 'w2' held action 'a' for 1m30s without an answer")
        .contains("past its timeout of 1m plus the scheduler's assignmentGrace of 30s")
        .contains("lost 2 times (w1, w2), giving up after 1 retries");
    assertThat(second.cancelled).hasSize(1);
    assertThat(first.cancelled).hasSize(1);
    assertThat(scheduler.stats().overdue()).isEqualTo(2);
  }

  @Test
  void anActionWithoutTimeoutHasNoDeadline() {
    FakeWorker worker = worker("w");
    Ticket<String> ticket = scheduler.submit(action("untimed"));
    clock.advance(Duration.ofDays(30));
    assertThat(scheduler.expireOverdue()).isZero();
    assertThat(worker.finish("untimed")).isTrue();
    assertThat(ticket.result()).isCompletedWithValue("untimed-done");
  }

  @Test
  void answeredCancelledOrLostAssignmentsLeaveNoDeadlineBehind() {
    FakeWorker w = FakeWorker.connect(scheduler, WorkerSpec.builder("w").slots(3).build());
    scheduler.submit(timed("answered"));
    Ticket<String> cancelled = scheduler.submit(timed("cancelled"));
    scheduler.submit(timed("lost"));
    w.finish("answered");
    cancelled.cancel();
    w.session.disconnect();

    // Within the maximum queue time, so the lost action waits in the queue.
    clock.advance(Duration.ofMinutes(30));
    assertThat(scheduler.expireOverdue()).isZero();
    assertThat(scheduler.stats().overdue()).isZero();
  }
}
