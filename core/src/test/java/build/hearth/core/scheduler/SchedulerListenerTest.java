package build.hearth.core.scheduler;

import static build.hearth.core.scheduler.SchedulerTesting.action;
import static org.assertj.core.api.Assertions.assertThat;

import build.hearth.core.scheduler.SchedulerTesting.FakeWorker;
import build.hearth.spi.worker.WorkerSpec;
import build.hearth.testing.FakeClock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

class SchedulerListenerTest {
  private final FakeClock clock = new FakeClock();

  @Test
  void hearsEachStartWithTheTimeItsActionWaited() {
    List<String> heard = new CopyOnWriteArrayList<>();
    SchedulerListener listener =
        new SchedulerListener() {
          @Override
          public void actionStarted(String actionName, String workerName, Duration queued) {
            heard.add(actionName + "@" + workerName + ":" + queued.toMillis());
          }
        };
    try (Scheduler<String, String> scheduler =
        SchedulerTesting.deterministic(clock).listener(listener).build()) {
      Ticket<String> lost = scheduler.submit(action("lost"));
      clock.advance(Duration.ofSeconds(2));
      FakeWorker first = FakeWorker.connect(scheduler, WorkerSpec.builder("w1").build());
      clock.advance(Duration.ofSeconds(5));
      // Losing its worker queues it again: the second wait starts then.
      first.session.disconnect();
      clock.advance(Duration.ofMillis(300));
      FakeWorker second = FakeWorker.connect(scheduler, WorkerSpec.builder("w2").build());

      assertThat(heard).containsExactly("lost@w1:2000", "lost@w2:300");
      assertThat(second.finish("lost")).isTrue();
      assertThat(lost.result()).isCompletedWithValue("lost-done");
    }
  }

  @Test
  void aThrowingListenerDoesNotDisturbTheScheduler() {
    SchedulerListener listener =
        new SchedulerListener() {
          @Override
          public void actionStarted(String actionName, String workerName, Duration queued) {
            throw new IllegalStateException("broken listener");
          }
        };
    try (Scheduler<String, String> scheduler =
        SchedulerTesting.deterministic(clock).listener(listener).build()) {
      FakeWorker worker = FakeWorker.connect(scheduler, WorkerSpec.builder("w").build());
      Ticket<String> ticket = scheduler.submit(action("a"));

      assertThat(worker.finish("a")).isTrue();
      assertThat(ticket.result()).isCompletedWithValue("a-done");
      assertThat(scheduler.stats().busySlots()).isZero();
    }
  }
}
