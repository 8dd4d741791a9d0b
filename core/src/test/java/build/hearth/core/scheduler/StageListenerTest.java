package build.hearth.core.scheduler;

import static build.hearth.core.scheduler.SchedulerTesting.action;
import static build.hearth.core.scheduler.SchedulerTesting.deterministic;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import build.hearth.core.scheduler.SchedulerTesting.FakeWorker;
import build.hearth.core.scheduler.Ticket.Stage;
import build.hearth.spi.worker.WorkerSpec;
import build.hearth.testing.FakeClock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class StageListenerTest {
  private final FakeClock clock = new FakeClock();
  private final Scheduler<String, String> scheduler =
      deterministic(clock).maxQueueTime(Duration.ofHours(1)).maxRetries(2).build();

  @AfterEach
  void bookkeepingIsConsistent() {
    ((DefaultScheduler<?, ?>) scheduler).checkInvariants();
    scheduler.close();
  }

  private static List<Stage> record(Ticket<?> ticket) {
    List<Stage> stages = new CopyOnWriteArrayList<>();
    ticket.addStageListener(stages::add);
    return stages;
  }

  @Test
  void listenerSeesTheCurrentStageThenEachChange() {
    Ticket<String> ticket = scheduler.submit(action("a"));
    List<Stage> stages = record(ticket);
    assertThat(stages).containsExactly(Stage.QUEUED);

    FakeWorker worker = FakeWorker.connect(scheduler, WorkerSpec.builder("w").build());
    assertThat(stages).containsExactly(Stage.QUEUED, Stage.EXECUTING);

    worker.finish("a");
    assertThat(stages).containsExactly(Stage.QUEUED, Stage.EXECUTING, Stage.COMPLETED);
    assertThat(ticket.result()).isCompletedWithValue("a-done");
  }

  @Test
  void aLostWorkerSendsTheActionBackToQueued() {
    FakeWorker first = FakeWorker.connect(scheduler, WorkerSpec.builder("first").build());
    Ticket<String> ticket = scheduler.submit(action("a"));
    List<Stage> stages = record(ticket);

    first.session.disconnect();
    FakeWorker second = FakeWorker.connect(scheduler, WorkerSpec.builder("second").build());
    second.finish("a");

    assertThat(stages)
        .containsExactly(Stage.EXECUTING, Stage.QUEUED, Stage.EXECUTING, Stage.COMPLETED);
  }

  @Test
  void cancellingAQueuedActionCompletesIt() {
    Ticket<String> ticket = scheduler.submit(action("a"));
    List<Stage> stages = record(ticket);

    ticket.cancel();

    assertThat(stages).containsExactly(Stage.QUEUED, Stage.COMPLETED);
  }

  @Test
  void aListenerAddedAfterCompletionHearsCompletedOnce() {
    FakeWorker worker = FakeWorker.connect(scheduler, WorkerSpec.builder("w").build());
    Ticket<String> ticket = scheduler.submit(action("a"));
    worker.finish("a");

    List<Stage> stages = record(ticket);

    assertThat(stages).containsExactly(Stage.COMPLETED);
  }

  @Test
  void listenersAreCalledWithoutTheLockSoTheyMayUseTheScheduler() throws Exception {
    Ticket<String> ticket = scheduler.submit(action("a"));
    List<Boolean> otherThreadGotIn = new CopyOnWriteArrayList<>();
    ExecutorService other = Executors.newSingleThreadExecutor();
    try {
      ticket.addStageListener(
          stage -> {
            // Would time out if this thread held the scheduler's lock.
            CompletableFuture<SchedulerStats> stats =
                CompletableFuture.supplyAsync(scheduler::stats, other);
            try {
              stats.get(10, TimeUnit.SECONDS);
              otherThreadGotIn.add(true);
            } catch (Exception e) {
              otherThreadGotIn.add(false);
            }
            if (stage == Stage.EXECUTING) {
              scheduler.submit(action("from-listener"));
            }
          });
      FakeWorker worker = FakeWorker.connect(scheduler, WorkerSpec.builder("w").build());
      worker.finish("a");

      assertThat(otherThreadGotIn).containsExactly(true, true, true);
      assertThat(worker.names()).containsExactly("a", "from-listener");
    } finally {
      other.shutdownNow();
    }
  }

  @Test
  void aThrowingListenerDoesNotStopTheOthers() {
    Ticket<String> ticket = scheduler.submit(action("a"));
    ticket.addStageListener(
        stage -> {
          throw new IllegalStateException("listener bug");
        });
    List<Stage> stages = record(ticket);

    FakeWorker worker = FakeWorker.connect(scheduler, WorkerSpec.builder("w").build());
    worker.finish("a");

    assertThat(stages).containsExactly(Stage.QUEUED, Stage.EXECUTING, Stage.COMPLETED);
    assertThat(ticket.result()).isCompletedWithValue("a-done");
  }

  @Test
  void changesMadeOnManyThreadsArriveInOrder() throws Exception {
    Scheduler<String, String> threaded =
        Scheduler.newBuilder().expiryCheckInterval(Duration.ZERO).maxRetries(1000).build();
    ExecutorService threads = Executors.newFixedThreadPool(4);
    try {
      int actions = 200;
      List<Ticket<String>> tickets = new ArrayList<>();
      List<List<Stage>> seen = new ArrayList<>();
      for (int i = 0; i < actions; i++) {
        Ticket<String> ticket = threaded.submit(action("a" + i));
        tickets.add(ticket);
        seen.add(record(ticket));
      }
      // Workers that drop every third assignment by disconnecting, so actions bounce between
      // QUEUED and EXECUTING on several threads before they complete.
      Random random = new Random(42);
      CountDownLatch done = new CountDownLatch(actions);
      tickets.forEach(ticket -> ticket.result().whenComplete((r, e) -> done.countDown()));
      for (int w = 0; w < 4; w++) {
        connectFlaky(threaded, "w" + w, random.nextLong(), threads);
      }
      assertThat(done.await(10, TimeUnit.SECONDS)).isTrue();
      // A change may be told by a thread that was already telling an earlier one, just after the
      // result completed.
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> seen.stream().allMatch(s -> s.contains(Stage.COMPLETED)));

      for (int i = 0; i < actions; i++) {
        List<Stage> stages = seen.get(i);
        assertThat(stages.get(stages.size() - 1)).isEqualTo(Stage.COMPLETED);
        assertThat(stages).containsOnlyOnce(Stage.COMPLETED);
        for (int j = 1; j < stages.size(); j++) {
          assertThat(stages.get(j)).isNotEqualTo(stages.get(j - 1));
        }
        assertThat(tickets.get(i).result()).isCompletedWithValue("a" + i + "-done");
      }
    } finally {
      threaded.close();
      threads.shutdownNow();
    }
  }

  private static void connectFlaky(
      Scheduler<String, String> scheduler, String name, long seed, ExecutorService threads) {
    Random random = new Random(seed);
    WorkerListener<String, String> listener =
        new WorkerListener<>() {
          @Override
          public void assign(Assignment<String, String> assignment) {
            boolean drop;
            synchronized (random) {
              drop = random.nextInt(3) == 0;
            }
            if (drop) {
              // Reconnect under another session: the action goes back to the queue.
              threads.execute(() -> connectFlaky(scheduler, name, seed + 1, threads));
              throw new IllegalStateException("simulated lost worker");
            }
            threads.execute(() -> assignment.complete(assignment.request().name() + "-done"));
          }
        };
    scheduler.connect(WorkerSpec.builder(name).slots(2).build(), listener);
  }
}
