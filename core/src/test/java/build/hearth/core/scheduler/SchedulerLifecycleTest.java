package build.hearth.core.scheduler;

import static build.hearth.core.scheduler.SchedulerTesting.action;
import static build.hearth.core.scheduler.SchedulerTesting.deterministic;
import static build.hearth.core.scheduler.SchedulerTesting.failure;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import build.hearth.core.scheduler.SchedulerTesting.FakeWorker;
import build.hearth.spi.worker.WorkerSpec;
import build.hearth.testing.FakeClock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class SchedulerLifecycleTest {
  private final FakeClock clock = new FakeClock();
  private Scheduler<String, String> scheduler =
      deterministic(clock).maxQueueTime(Duration.ofHours(1)).maxRetries(2).build();

  @AfterEach
  void bookkeepingIsConsistent() {
    ((DefaultScheduler<?, ?>) scheduler).checkInvariants();
    scheduler.close();
  }

  private FakeWorker worker(String name, String... namesAndValues) {
    WorkerSpec.Builder spec = WorkerSpec.builder(name);
    for (int i = 0; i < namesAndValues.length; i += 2) {
      spec.property(namesAndValues[i], namesAndValues[i + 1]);
    }
    return FakeWorker.connect(scheduler, spec.build());
  }

  @Test
  void cancellingAQueuedActionTakesItOutOfTheQueue() {
    FakeWorker worker = worker("w");
    scheduler.submit(action("busy"));
    Ticket<String> queued = scheduler.submit(action("queued"));

    assertThat(queued.cancel()).isTrue();

    assertThat(failure(queued).code()).isEqualTo(StatusCode.CANCELLED);
    assertThat(failure(queued).getMessage()).contains("action 'queued' was cancelled");
    assertThat(queued.stage()).isEqualTo(Ticket.Stage.COMPLETED);
    assertThat(queued.cancel()).isFalse();
    worker.finish("busy");
    assertThat(worker.names()).containsExactly("busy");
    assertThat(scheduler.stats().queued()).isZero();
  }

  @Test
  void cancellingARunningActionTellsTheWorkerAndKeepsTheSlotUntilItAnswers() {
    FakeWorker worker = worker("w");
    Ticket<String> running = scheduler.submit(action("running"));
    scheduler.submit(action("next"));

    assertThat(running.cancel()).isTrue();

    assertThat(failure(running).code()).isEqualTo(StatusCode.CANCELLED);
    Assignment<String, String> assignment = worker.get("running");
    assertThat(worker.cancelled).containsExactly(assignment);
    assertThat(assignment.isCancelled()).isTrue();
    assertThat(worker.names()).containsExactly("running");
    assertThat(scheduler.stats().busySlots()).isEqualTo(1);
    assertThat(scheduler.stats().executing()).isZero();

    assertThat(assignment.complete("too late")).isFalse();

    assertThat(running.result()).isCompletedExceptionally();
    assertThat(worker.names()).containsExactly("running", "next");
  }

  @Test
  void cancellingTheFutureCancelsTheAction() {
    FakeWorker worker = worker("w");
    Ticket<String> running = scheduler.submit(action("running"));
    Ticket<String> queued = scheduler.submit(action("queued"));

    queued.result().cancel(true);
    running.result().cancel(true);

    assertThat(queued.stage()).isEqualTo(Ticket.Stage.COMPLETED);
    assertThat(scheduler.stats().queued()).isZero();
    assertThat(worker.cancelled).containsExactly(worker.get("running"));
    assertThat(queued.cancel()).isFalse();
  }

  @Test
  void anActionCancelledBeforeItsWorkerHeardOfItFreesTheSlot() {
    Queue<Runnable> deliveries = new ArrayDeque<>();
    scheduler.close();
    scheduler = deterministic(clock).callbackExecutor(deliveries::add).build();
    FakeWorker worker = worker("w");
    Ticket<String> ticket = scheduler.submit(action("a"));
    assertThat(ticket.stage()).isEqualTo(Ticket.Stage.EXECUTING);

    ticket.cancel();
    assertThat(scheduler.stats().busySlots()).isEqualTo(1);
    while (!deliveries.isEmpty()) {
      deliveries.poll().run();
    }

    assertThat(worker.assigned).isEmpty();
    assertThat(worker.cancelled).isEmpty();
    assertThat(scheduler.stats().busySlots()).isZero();
  }

  @Test
  void anActionWaitingLongerThanTheMaximumQueueTimeFails() {
    worker("w");
    scheduler.submit(action("busy"));
    Ticket<String> waiting = scheduler.submit(action("waiting"));

    clock.advance(Duration.ofMinutes(59));
    assertThat(scheduler.expireOverdue()).isZero();
    assertThat(waiting.stage()).isEqualTo(Ticket.Stage.QUEUED);

    clock.advance(Duration.ofMinutes(1));
    assertThat(scheduler.expireOverdue()).isEqualTo(1);

    HearthException error = failure(waiting);
    assertThat(error.code()).isEqualTo(StatusCode.UNAVAILABLE);
    assertThat(error.getMessage())
        .contains("action 'waiting' waited 1h in the queue")
        .contains("the 1 connected worker(s) that can run it were busy");
    assertThat(scheduler.stats().queued()).isZero();
  }

  @Test
  void expiryLooksOnlyAtActionsOldEnough() {
    worker("w");
    scheduler.submit(action("busy"));
    Ticket<String> old = scheduler.submit(action("old"));
    clock.advance(Duration.ofMinutes(30));
    Ticket<String> young = scheduler.submit(action("young"));
    clock.advance(Duration.ofMinutes(30));

    assertThat(scheduler.expireOverdue()).isEqualTo(1);

    assertThat(old.result()).isCompletedExceptionally();
    assertThat(young.stage()).isEqualTo(Ticket.Stage.QUEUED);
  }

  @Test
  void withNoWorkerConnectedAnActionWaitsAndThenSaysSo() {
    Ticket<String> ticket = scheduler.submit(action("a", "OSFamily", "linux"));

    clock.advance(Duration.ofHours(1));
    scheduler.expireOverdue();

    HearthException error = failure(ticket);
    assertThat(error.code()).isEqualTo(StatusCode.UNAVAILABLE);
    assertThat(error.getMessage())
        .contains("waited 1h in the queue")
        .contains("no worker is connected to the scheduler");
  }

  @Test
  void whenTheLastCapableWorkerLeavesQueuedActionsWaitForItToReturn() {
    FakeWorker linux = worker("linux", "OSFamily", "linux");
    worker("mac", "OSFamily", "macos");
    Ticket<String> running = scheduler.submit(action("running", "OSFamily", "linux"));
    Ticket<String> queued = scheduler.submit(action("queued", "OSFamily", "linux"));

    linux.session.disconnect();

    assertThat(running.stage()).isEqualTo(Ticket.Stage.QUEUED);
    assertThat(queued.stage()).isEqualTo(Ticket.Stage.QUEUED);
    // New submissions see that no connected worker can run them.
    assertThat(failure(scheduler.submit(action("new", "OSFamily", "linux"))).code())
        .isEqualTo(StatusCode.FAILED_PRECONDITION);

    FakeWorker back = worker("linux-again", "OSFamily", "linux");
    assertThat(back.names()).containsExactly("running");
    back.finish("running");
    assertThat(running.result()).isCompletedWithValue("running-done");
    assertThat(back.names()).containsExactly("running", "queued");
  }

  @Test
  void anActionNoConnectedWorkerCanRunAnymoreExpiresWithTheReason() {
    FakeWorker linux = worker("linux", "OSFamily", "linux");
    worker("mac", "OSFamily", "macos");
    Ticket<String> ticket = scheduler.submit(action("a", "OSFamily", "linux"));

    linux.session.disconnect();
    clock.advance(Duration.ofHours(2));
    scheduler.expireOverdue();

    HearthException error = failure(ticket);
    assertThat(error.code()).isEqualTo(StatusCode.UNAVAILABLE);
    assertThat(error.getMessage())
        .contains("it was queued again after losing worker(s) linux")
        .contains("no connected worker can run it: no connected worker offers OSFamily=linux")
        .contains("workers offer OSFamily: macos");
  }

  @Test
  void aLostActionIsRetriedOnAnotherWorkerAThenFails() {
    Ticket<String> ticket = scheduler.submit(action("a"));
    FakeWorker w1 = worker("w1");
    Assignment<String, String> first = w1.get("a");
    assertThat(first.attempt()).isEqualTo(1);

    w1.session.disconnect();
    assertThat(first.isCancelled()).isTrue();
    assertThat(w1.session.isConnected()).isFalse();
    FakeWorker w2 = worker("w2");
    assertThat(w2.get("a").attempt()).isEqualTo(2);
    // The first worker's late answer does not count.
    assertThat(first.complete("stale")).isFalse();
    assertThat(ticket.result()).isNotDone();

    w2.session.disconnect();
    FakeWorker w3 = worker("w3");
    assertThat(w3.get("a").attempt()).isEqualTo(3);
    w3.session.disconnect();

    HearthException error = failure(ticket);
    assertThat(error.code()).isEqualTo(StatusCode.UNAVAILABLE);
    assertThat(error.getMessage())
        .contains("action 'a' was lost 3 times")
        .contains("(w1, w2, w3)")
        .contains("after 2 retries");
    assertThat(scheduler.stats()).isEqualTo(new SchedulerStats(0, 0, 0, 0, 0, 2));
    assertThat(w1.cancelled).isEmpty();
  }

  @Test
  void withNoRetriesTheFirstLossFails() {
    scheduler.close();
    scheduler = deterministic(clock).maxRetries(0).build();
    FakeWorker worker = worker("w");
    Ticket<String> ticket = scheduler.submit(action("a"));

    worker.session.disconnect();

    assertThat(failure(ticket).getMessage()).contains("lost 1 times").contains("(w)");
  }

  @Test
  void disconnectingAgainDoesNothing() {
    FakeWorker worker = worker("w");
    scheduler.submit(action("a"));

    worker.session.disconnect();
    worker.session.disconnect();

    assertThat(scheduler.stats()).isEqualTo(new SchedulerStats(1, 0, 0, 0, 0, 1));
  }

  @Test
  void aWorkerWhoseListenerThrowsIsDroppedAndItsActionRunsElsewhere() {
    WorkerSession broken =
        scheduler.connect(
            WorkerSpec.builder("broken").build(),
            assignment -> {
              throw new IllegalStateException("stream closed");
            });
    FakeWorker good = worker("good");

    Ticket<String> ticket = scheduler.submit(action("a"));

    assertThat(broken.isConnected()).isFalse();
    assertThat(good.get("a").attempt()).isEqualTo(2);
    good.finish("a");
    assertThat(ticket.result()).isCompletedWithValue("a-done");
    assertThat(scheduler.stats().workers()).isEqualTo(1);
  }

  @Test
  void aWorkerMayAnswerFromInsideTheAssignCall() {
    scheduler.connect(
        WorkerSpec.builder("eager").build(),
        assignment -> assignment.complete(assignment.request().task() + "!"));

    Ticket<String> a = scheduler.submit(action("a"));
    Ticket<String> b = scheduler.submit(action("b"));

    assertThat(a.result()).isCompletedWithValue("a!");
    assertThat(b.result()).isCompletedWithValue("b!");
  }

  @Test
  void onlyTheFirstAnswerCounts() {
    FakeWorker worker = worker("w");
    Ticket<String> ticket = scheduler.submit(action("a"));
    Assignment<String, String> assignment = worker.get("a");

    HearthException error = new HearthException(StatusCode.INTERNAL, "the sandbox broke");
    assertThat(assignment.fail(error)).isTrue();
    assertThat(assignment.complete("late")).isFalse();
    assertThat(assignment.fail(error)).isFalse();

    assertThat(failure(ticket)).isSameAs(error);
    assertThat(scheduler.stats().busySlots()).isZero();
  }

  @Test
  void closingFailsEverythingAndCancelsRunningWork() {
    FakeWorker worker = worker("w");
    Ticket<String> running = scheduler.submit(action("running"));
    Ticket<String> queued = scheduler.submit(action("queued"));

    scheduler.close();
    scheduler.close();

    assertThat(failure(running).code()).isEqualTo(StatusCode.UNAVAILABLE);
    assertThat(failure(queued).getMessage())
        .contains("the scheduler shut down before action 'queued' completed");
    assertThat(worker.cancelled).containsExactly(worker.get("running"));
    assertThat(worker.session.isConnected()).isFalse();
    assertThat(worker.get("running").complete("late")).isFalse();
    assertThat(failure(scheduler.submit(action("after"))).code()).isEqualTo(StatusCode.UNAVAILABLE);
    assertThatThrownBy(() -> worker("late"))
        .isInstanceOfSatisfying(
            HearthException.class, e -> assertThat(e.code()).isEqualTo(StatusCode.UNAVAILABLE));
    assertThat(scheduler.stats()).isEqualTo(new SchedulerStats(0, 0, 0, 0, 0, 0));
  }

  @Test
  void theDefaultExecutorsRunListenersAndStopOnClose() throws Exception {
    scheduler.close();
    scheduler = Scheduler.newBuilder().build();
    scheduler.connect(
        WorkerSpec.builder("w").build(), assignment -> assignment.complete("ran on a thread"));

    Ticket<String> ticket = scheduler.submit(action("a"));

    assertThat(ticket.result().get(10, TimeUnit.SECONDS)).isEqualTo("ran on a thread");
  }

  @Test
  void aTimerExpiresOverdueActionsOnItsOwn() throws Exception {
    ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    try {
      scheduler.close();
      scheduler =
          deterministic(clock)
              .timer(timer)
              .expiryCheckInterval(Duration.ofMillis(5))
              .maxQueueTime(Duration.ofSeconds(30))
              .build();
      Ticket<String> ticket = scheduler.submit(action("a"));
      clock.advance(Duration.ofSeconds(30));

      assertThat(ticket.result())
          .failsWithin(Duration.ofSeconds(10))
          .withThrowableThat()
          .havingCause()
          .isInstanceOf(HearthException.class)
          .withMessageContaining("waited 30s in the queue");
    } finally {
      scheduler.close();
      timer.shutdownNow();
    }
  }

  @Test
  void theBuilderRejectsBadSettings() {
    assertThatThrownBy(() -> Scheduler.newBuilder().maxQueueTime(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Scheduler.newBuilder().maxRetries(-1))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Scheduler.newBuilder().expiryCheckInterval(Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Scheduler.newBuilder().propertyType("", PropertyType.EXACT))
        .isInstanceOf(IllegalArgumentException.class);
    ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    try {
      assertThatThrownBy(
              () -> Scheduler.newBuilder().timer(timer).expiryCheckInterval(Duration.ZERO).build())
          .isInstanceOf(IllegalStateException.class);
    } finally {
      timer.shutdownNow();
    }
  }

  @Test
  void workerSpecsAreCheckedAndCopied() {
    assertThatThrownBy(() -> WorkerSpec.builder("w").slots(0).build())
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> WorkerSpec.builder(" ").build())
        .isInstanceOf(IllegalArgumentException.class);

    WorkerSpec spec =
        WorkerSpec.builder("w")
            .property("b", "2", "1")
            .property("a", "x")
            .property("b", "3")
            .build();

    assertThat(spec.properties())
        .containsExactly(Map.entry("a", Set.of("x")), Map.entry("b", Set.of("1", "2", "3")));
    assertThatThrownBy(() -> spec.properties().put("c", Set.of()))
        .isInstanceOf(UnsupportedOperationException.class);
  }
}
