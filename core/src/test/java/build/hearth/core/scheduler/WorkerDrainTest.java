package build.hearth.core.scheduler;

import static build.hearth.core.scheduler.SchedulerTesting.action;
import static build.hearth.core.scheduler.SchedulerTesting.deterministic;
import static org.assertj.core.api.Assertions.assertThat;

import build.hearth.core.scheduler.SchedulerTesting.FakeWorker;
import build.hearth.spi.worker.WorkerSpec;
import build.hearth.testing.FakeClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** A draining worker gets nothing new, finishes what it runs, and its queue goes elsewhere. */
class WorkerDrainTest {
  private final FakeClock clock = new FakeClock();
  private final Scheduler<String, String> scheduler = deterministic(clock).build();

  @AfterEach
  void bookkeepingIsConsistent() {
    ((DefaultScheduler<?, ?>) scheduler).checkInvariants();
    scheduler.close();
  }

  @Test
  void aDrainingWorkerWithFreeSlotsGetsNoNewActionAndItsAnswerStillCounts() {
    FakeWorker draining = FakeWorker.connect(scheduler, WorkerSpec.builder("d").slots(2).build());
    Ticket<String> running = scheduler.submit(action("running"));
    assertThat(draining.names()).containsExactly("running");

    draining.session.drain();
    Ticket<String> next = scheduler.submit(action("next"));

    assertThat(draining.session.isDraining()).isTrue();
    assertThat(next.stage()).isEqualTo(Ticket.Stage.QUEUED);
    assertThat(draining.finish("running")).isTrue();
    assertThat(running.result()).isCompletedWithValue("running-done");
    // The freed slot is not refilled either.
    assertThat(draining.names()).containsExactly("running");
    assertThat(next.stage()).isEqualTo(Ticket.Stage.QUEUED);

    FakeWorker other = FakeWorker.connect(scheduler, WorkerSpec.builder("o").build());
    assertThat(other.names()).containsExactly("next");
    assertThat(scheduler.stats().requeued()).isZero();
  }

  @Test
  void queuedWorkGoesToTheOtherWorkerWhenTheDrainingOneFrees() {
    FakeWorker draining = FakeWorker.connect(scheduler, WorkerSpec.builder("d").build());
    FakeWorker other = FakeWorker.connect(scheduler, WorkerSpec.builder("o").build());
    scheduler.submit(action("a"));
    scheduler.submit(action("b"));
    scheduler.submit(action("c"));
    assertThat(draining.names()).hasSize(1);
    String onDraining = draining.names().get(0);

    draining.session.drain();
    draining.finish(onDraining);
    other.finish(other.names().get(0));

    assertThat(draining.names()).containsExactly(onDraining);
    assertThat(other.names()).hasSize(2);
  }

  @Test
  void anActionOnlyADrainingWorkerCouldRunWaitsForItsReplacement() {
    FakeWorker draining = FakeWorker.connect(scheduler, WorkerSpec.builder("d").build());
    draining.session.drain();

    Ticket<String> waiting = scheduler.submit(action("waiting"));

    assertThat(waiting.stage()).isEqualTo(Ticket.Stage.QUEUED);
    draining.session.disconnect();
    FakeWorker replacement = FakeWorker.connect(scheduler, WorkerSpec.builder("r").build());
    assertThat(replacement.names()).containsExactly("waiting");
  }
}
