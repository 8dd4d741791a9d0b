package build.hearth.core.scheduler;

import static build.hearth.core.scheduler.SchedulerTesting.action;
import static build.hearth.core.scheduler.SchedulerTesting.deterministic;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import build.hearth.core.scheduler.SchedulerTesting.FakeWorker;
import build.hearth.spi.worker.WorkerSpec;
import build.hearth.testing.FakeClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class QueueBoundTest {
  private final FakeClock clock = new FakeClock();
  private final Scheduler<String, String> scheduler =
      deterministic(clock).name("main").maxQueuedActions(2).build();

  @AfterEach
  void bookkeepingIsConsistent() {
    ((DefaultScheduler<?, ?>) scheduler).checkInvariants();
    scheduler.close();
  }

  @Test
  void aSubmissionBeyondTheBoundIsRefusedNamingTheFieldAndValue() {
    scheduler.submit(action("a"));
    scheduler.submit(action("b"));

    HearthException refused =
        catchThrowableOfType(() -> scheduler.submit(action("c")), HearthException.class);

    assertThat(refused.code()).isEqualTo(StatusCode.RESOURCE_EXHAUSTED);
    assertThat(refused.limit()).contains("scheduler_queue");
    assertThat(refused.retryAfter()).isPresent();
    assertThat(refused.getMessage())
        .contains("'c'", "scheduler 'main'", "schedulers.main.maxQueuedActions is 2");
    assertThat(scheduler.stats().queued()).isEqualTo(2);
  }

  @Test
  void assignedActionsDoNotCountAndFreedPlacesAreUsable() {
    FakeWorker worker = FakeWorker.connect(scheduler, WorkerSpec.builder("w").build());
    scheduler.submit(action("running"));
    scheduler.submit(action("a"));
    scheduler.submit(action("b"));
    assertThat(worker.names()).containsExactly("running");

    worker.finish("running");
    scheduler.submit(action("c"));

    assertThat(worker.names()).containsExactly("running", "a");
    assertThat(scheduler.stats().queued()).isEqualTo(2);
  }

  @Test
  void actionsQueuedAgainAfterLosingTheirWorkerAreNeverRefused() {
    FakeWorker worker = FakeWorker.connect(scheduler, WorkerSpec.builder("w").build());
    Ticket<String> running = scheduler.submit(action("running"));
    scheduler.submit(action("a"));
    scheduler.submit(action("b"));

    worker.session.disconnect();

    assertThat(running.result()).isNotDone();
    assertThat(scheduler.stats().queued()).isEqualTo(3);
  }

  @Test
  void theBoundMustBePositive() {
    assertThatThrownBy(() -> Scheduler.newBuilder().maxQueuedActions(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxQueuedActions");
  }
}
