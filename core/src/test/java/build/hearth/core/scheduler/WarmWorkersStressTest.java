package build.hearth.core.scheduler;

import static build.hearth.core.scheduler.SchedulerTesting.action;
import static org.assertj.core.api.Assertions.assertThat;

import build.hearth.spi.worker.WorkerSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * {@link WarmWorkers} under reports, assignments and reconnections from many threads at once, on
 * its own and behind a real scheduler whose workers answer on their own threads. Decisions come
 * from seeded {@link Random}s; thread timing does not.
 */
class WarmWorkersStressTest {
  private static final List<String> KEYS = List.of("javac", "scalac", "kotlinc");
  private static final int THREADS = 6;

  @Test
  void concurrentReportsAssignmentsAndReconnectionsKeepEveryCountPositiveAndTheLastReportWins()
      throws Exception {
    WarmWorkers warm = new WarmWorkers();
    List<WorkerSpec> workers = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      WorkerSpec spec = WorkerSpec.builder("w" + i).build();
      workers.add(spec);
      warm.connected(spec);
    }
    ExecutorService threads = Executors.newFixedThreadPool(THREADS);
    try {
      List<CompletableFuture<?>> done = new ArrayList<>();
      for (int t = 0; t < THREADS; t++) {
        Random random = new Random(1000 + t);
        done.add(
            CompletableFuture.runAsync(
                () -> {
                  for (int i = 0; i < 20_000; i++) {
                    WorkerSpec worker = workers.get(random.nextInt(workers.size()));
                    String key = KEYS.get(random.nextInt(KEYS.size()));
                    switch (random.nextInt(5)) {
                      case 0 -> warm.report(worker.name(), randomIdle(random));
                      case 1 -> warm.assigned(persistent(key), worker);
                      case 2 -> {
                        // A second connection of the same name, as a reconnecting worker makes.
                        warm.connected(worker);
                        warm.disconnected(worker);
                      }
                      default -> {
                        warm.score(persistent(key), worker);
                        warm.idle(worker.name())
                            .values()
                            .forEach(count -> assertThat(count).isPositive());
                      }
                    }
                  }
                },
                threads));
      }
      CompletableFuture.allOf(done.toArray(new CompletableFuture<?>[0])).get(60, TimeUnit.SECONDS);
    } finally {
      threads.shutdownNow();
    }

    for (WorkerSpec worker : workers) {
      // Every worker is still connected once: the overlapping connections all ended.
      assertThat(warm.report(worker.name(), Map.of("javac", 2))).isTrue();
      assertThat(warm.idle(worker.name())).containsExactlyEntriesOf(Map.of("javac", 2));
      warm.disconnected(worker);
      assertThat(warm.report(worker.name(), Map.of("javac", 2))).isFalse();
    }
  }

  @Test
  void aSchedulerFedByConcurrentReportsRunsEveryActionOnce() throws Exception {
    WarmWorkers warm = new WarmWorkers();
    Scheduler<String, String> scheduler =
        Scheduler.newBuilder().workerScorer(warm).expiryCheckInterval(Duration.ZERO).build();
    ExecutorService workerThreads = Executors.newFixedThreadPool(4);
    Map<String, AtomicInteger> ranOn = new ConcurrentHashMap<>();
    try {
      for (int w = 0; w < 4; w++) {
        String name = "w" + w;
        Random random = new Random(w);
        scheduler.connect(
            WorkerSpec.builder(name).slots(3).build(),
            assignment ->
                workerThreads.execute(
                    () -> {
                      ranOn.computeIfAbsent(name, n -> new AtomicInteger()).incrementAndGet();
                      // As a worker does: its processes are idle again before it answers.
                      warm.report(name, randomIdle(random));
                      assignment.complete(assignment.request().name());
                    }));
      }
      List<Ticket<String>> tickets = new ArrayList<>();
      Random submissions = new Random(7);
      for (int i = 0; i < 3_000; i++) {
        tickets.add(
            scheduler.submit(
                persistent(KEYS.get(submissions.nextInt(KEYS.size())), "action-" + i)));
      }
      for (int i = 0; i < tickets.size(); i++) {
        assertThat(tickets.get(i).result().get(30, TimeUnit.SECONDS)).isEqualTo("action-" + i);
      }
      ((DefaultScheduler<?, ?>) scheduler).checkInvariants();
      assertThat(ranOn.values().stream().mapToInt(AtomicInteger::get).sum()).isEqualTo(3_000);
    } finally {
      scheduler.close();
      workerThreads.shutdownNow();
    }
    for (int w = 0; w < 4; w++) {
      assertThat(warm.idle("w" + w)).isEmpty();
    }
  }

  private static ActionRequest<String> persistent(String key) {
    return persistent(key, "a");
  }

  private static ActionRequest<String> persistent(String key, String name) {
    return action(name, "persistentWorkerKey", key);
  }

  private static Map<String, Integer> randomIdle(Random random) {
    Map<String, Integer> idle = new HashMap<>();
    for (String key : KEYS) {
      idle.put(key, random.nextInt(4) - 1);
    }
    return idle;
  }
}
