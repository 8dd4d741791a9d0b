package build.hearth.core.scheduler;

import static build.hearth.core.scheduler.SchedulerTesting.action;
import static build.hearth.core.scheduler.SchedulerTesting.deterministic;
import static org.assertj.core.api.Assertions.assertThat;

import build.hearth.core.scheduler.SchedulerTesting.FakeWorker;
import build.hearth.spi.worker.WorkerSpec;
import build.hearth.testing.FakeClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class QueueOrderTest {
  private final FakeClock clock = new FakeClock();
  private final Scheduler<String, String> scheduler = deterministic(clock).build();

  @AfterEach
  void bookkeepingIsConsistent() {
    ((DefaultScheduler<?, ?>) scheduler).checkInvariants();
    scheduler.close();
  }

  @Test
  void lowerPriorityNumbersRunFirstThenSubmissionOrder() {
    FakeWorker worker = FakeWorker.connect(scheduler, WorkerSpec.builder("w").build());
    scheduler.submit(action("busy"));
    scheduler.submit(action("a").withPriority(5));
    scheduler.submit(action("b"));
    scheduler.submit(action("c").withPriority(5));
    scheduler.submit(action("d").withPriority(-1));
    scheduler.submit(action("e"));

    for (String name : new String[] {"busy", "d", "b", "e", "a"}) {
      worker.finish(name);
    }

    assertThat(worker.names()).containsExactly("busy", "d", "b", "e", "a", "c");
  }

  @Test
  void priorityOrderHoldsAcrossPlatforms() {
    FakeWorker worker =
        FakeWorker.connect(
            scheduler,
            WorkerSpec.builder("w")
                .property("OSFamily", "linux")
                .property("cpu_count", "16")
                .build());
    scheduler.submit(action("busy"));
    scheduler.submit(action("linux-late").withPriority(5));
    scheduler.submit(action("cpu-early", "cpu_count", "8").withPriority(1));
    scheduler.submit(action("linux-early", "OSFamily", "linux").withPriority(1));

    worker.finish("busy");
    worker.finish("cpu-early");
    worker.finish("linux-early");

    assertThat(worker.names()).containsExactly("busy", "cpu-early", "linux-early", "linux-late");
  }

  @Test
  void eachAssignmentTakesASlotUntilAnswered() {
    FakeWorker worker = FakeWorker.connect(scheduler, WorkerSpec.builder("w").slots(2).build());
    Ticket<String> a = scheduler.submit(action("a"));
    Ticket<String> b = scheduler.submit(action("b"));
    Ticket<String> c = scheduler.submit(action("c"));

    assertThat(worker.names()).containsExactly("a", "b");
    assertThat(a.stage()).isEqualTo(Ticket.Stage.EXECUTING);
    assertThat(c.stage()).isEqualTo(Ticket.Stage.QUEUED);
    assertThat(scheduler.stats()).isEqualTo(new SchedulerStats(1, 2, 1, 2, 2, 0));

    assertThat(worker.finish("b")).isTrue();

    assertThat(b.result()).isCompletedWithValue("b-done");
    assertThat(b.stage()).isEqualTo(Ticket.Stage.COMPLETED);
    assertThat(worker.names()).containsExactly("a", "b", "c");
    assertThat(scheduler.stats()).isEqualTo(new SchedulerStats(0, 2, 1, 2, 2, 0));

    worker.finish("a");
    worker.finish("c");

    assertThat(scheduler.stats()).isEqualTo(new SchedulerStats(0, 0, 1, 2, 0, 0));
  }

  @Test
  void aLostActionGoesAheadOfItsPriorityButNotOfHigherPriorities() {
    FakeWorker first = FakeWorker.connect(scheduler, WorkerSpec.builder("first").build());
    Ticket<String> lost = scheduler.submit(action("lost"));
    scheduler.submit(action("urgent").withPriority(-5));
    scheduler.submit(action("same"));

    first.session.disconnect();
    FakeWorker second = FakeWorker.connect(scheduler, WorkerSpec.builder("second").build());
    second.finish("urgent");

    assertThat(second.names()).containsExactly("urgent", "lost");
    assertThat(second.get("lost").attempt()).isEqualTo(2);
    assertThat(scheduler.stats().requeued()).isEqualTo(1);

    second.finish("lost");
    assertThat(lost.result()).isCompletedWithValue("lost-done");
    assertThat(second.names()).containsExactly("urgent", "lost", "same");
  }

  @Test
  void actionsWaitWhileNoWorkerIsConnected() {
    Ticket<String> ticket = scheduler.submit(action("a", "OSFamily", "linux"));
    assertThat(ticket.stage()).isEqualTo(Ticket.Stage.QUEUED);

    FakeWorker mac =
        FakeWorker.connect(
            scheduler, WorkerSpec.builder("mac").property("OSFamily", "macos").build());
    assertThat(mac.assigned).isEmpty();
    assertThat(ticket.stage()).isEqualTo(Ticket.Stage.QUEUED);

    FakeWorker linux =
        FakeWorker.connect(
            scheduler, WorkerSpec.builder("linux").property("OSFamily", "linux").build());
    assertThat(linux.names()).containsExactly("a");
    assertThat(ticket.stage()).isEqualTo(Ticket.Stage.EXECUTING);
  }

  @Test
  void aConnectingWorkerFillsAllItsSlotsInOrder() {
    scheduler.submit(action("a").withPriority(2));
    scheduler.submit(action("b").withPriority(1));
    scheduler.submit(action("c").withPriority(3));
    scheduler.submit(action("d").withPriority(1));

    FakeWorker worker = FakeWorker.connect(scheduler, WorkerSpec.builder("w").slots(3).build());

    assertThat(worker.names()).containsExactly("b", "d", "a");
    assertThat(scheduler.stats().queued()).isEqualTo(1);
  }

  @Test
  void theWorkerWithMoreFreeSlotsGetsTheAction() {
    FakeWorker small = FakeWorker.connect(scheduler, WorkerSpec.builder("small").slots(2).build());
    FakeWorker large = FakeWorker.connect(scheduler, WorkerSpec.builder("large").slots(4).build());

    for (String name : new String[] {"a", "b", "c", "d"}) {
      scheduler.submit(action(name));
    }

    assertThat(large.names()).containsExactly("a", "b", "d");
    assertThat(small.names()).containsExactly("c");
  }
}
