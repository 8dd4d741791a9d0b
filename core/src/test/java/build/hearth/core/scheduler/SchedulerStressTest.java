package build.hearth.core.scheduler;

import static build.hearth.core.scheduler.Platforms.platform;
import static org.assertj.core.api.Assertions.assertThat;

import build.bazel.remote.execution.v2.Platform;
import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import build.hearth.spi.worker.WorkerSpec;
import build.hearth.testing.FakeClock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.junit.jupiter.api.Test;

/**
 * Thousands of actions from many threads, while simulated workers answer on their own threads and
 * connect and disconnect at random. Decisions come from {@code new Random(42)}; thread timing does
 * not, so each run interleaves differently, and the bookkeeping is checked after every change of
 * the fleet.
 */
class SchedulerStressTest {
  private static final int ACTIONS = 5_000;
  private static final int SUBMITTERS = 8;
  private static final int MIN_WORKERS = 10;
  private static final int MAX_WORKERS = 20;
  // Answers the workers may give, and actions the submitters may submit, between two changes of
  // the fleet, so that the fleet changes at the same pace however fast the machine is.
  private static final int ANSWERS_PER_CHANGE = 20;
  private static final int SUBMISSIONS_PER_CHANGE = 40;
  private static final List<Platform> EVERY_WORKER_FITS =
      List.of(
          platform(),
          platform("OSFamily", "linux"),
          platform("cpu_count", "2"),
          platform("OSFamily", "linux", "cpu_count", "4", "pool", "ssd"),
          platform("pool", "ssd"));
  private static final List<Platform> SOME_WORKERS_FIT =
      List.of(
          platform(),
          platform("OSFamily", "linux"),
          platform("OSFamily", "macos"),
          platform("cpu_count", "12", "pool", "ssd"),
          platform("OSFamily", "macos", "cpu_count", "8"));

  private final AtomicIntegerArray accepted = new AtomicIntegerArray(ACTIONS);
  private final AtomicIntegerArray outcomes = new AtomicIntegerArray(ACTIONS);
  private final AtomicIntegerArray platformOf = new AtomicIntegerArray(ACTIONS);
  private final AtomicReferenceArray<Ticket<Integer>> tickets = new AtomicReferenceArray<>(ACTIONS);
  private final AtomicInteger rejectedAnswers = new AtomicInteger();
  private final Semaphore answers = new Semaphore(0);
  private final Semaphore answerPermits = new Semaphore(0);
  private final Semaphore submitPermits = new Semaphore(0);
  private final AtomicLong sink = new AtomicLong();
  private final FakeClock clock = new FakeClock();
  private int disconnects;
  private long requeued;
  private long overdue;

  @Test
  void everyActionCompletesExactlyOnceWhileWorkersComeAndGo() throws Exception {
    run(EVERY_WORKER_FITS, false, false);

    for (int id = 0; id < ACTIONS; id++) {
      HearthException error = errorOf(id);
      if (error != null) {
        // Only the submitters' deliberate cancellations end an action without a result.
        assertThat(error.code()).as("outcome of action %d", id).isEqualTo(StatusCode.CANCELLED);
      }
    }
  }

  @Test
  void actionsForPartOfTheFleetRunOrFailPromptlyWhileWorkersComeAndGo() throws Exception {
    run(SOME_WORKERS_FIT, true, false);

    int ranOnMacs = 0;
    for (int id = 0; id < ACTIONS; id++) {
      HearthException error = errorOf(id);
      if (error == null) {
        ranOnMacs += SOME_WORKERS_FIT.get(platformOf.get(id)).toString().contains("macos") ? 1 : 0;
      } else if (error.code() != StatusCode.CANCELLED) {
        // Submitted while no connected worker could run it: never queued, never run.
        assertThat(error.code())
            .as("outcome of action %d", id)
            .isEqualTo(StatusCode.FAILED_PRECONDITION);
        assertThat(error.getMessage()).contains("cannot run on any of the");
        assertThat(accepted.get(id)).isZero();
      }
    }
    assertThat(ranOnMacs).isPositive();
  }

  @Test
  void actionsHeldPastTheirDeadlineAreTakenBackWhileWorkersComeAndGo() throws Exception {
    run(EVERY_WORKER_FITS, false, true);

    for (int id = 0; id < ACTIONS; id++) {
      HearthException error = errorOf(id);
      if (error != null) {
        // Taken-back actions are queued again (the retries are plenty), never failed.
        assertThat(error.code()).as("outcome of action %d", id).isEqualTo(StatusCode.CANCELLED);
      }
    }
    assertThat(overdue).isPositive();
  }

  /**
   * Runs all actions through a churning fleet and checks what holds whatever the fleet. With {@code
   * deadlines}, each action has a timeout, and the fake clock moves on and overdue assignments are
   * taken back at each change of the fleet.
   */
  private void run(List<Platform> platforms, boolean mixedFleet, boolean deadlines)
      throws Exception {
    Random chaos = new Random(42);
    Scheduler<Integer, Integer> scheduler =
        Scheduler.newBuilder()
            .propertyType("OSFamily", PropertyType.EXACT)
            .propertyType("cpu_count", PropertyType.MINIMUM)
            .propertyType("pool", PropertyType.PRIORITY)
            .maxRetries(10_000)
            .expiryCheckInterval(Duration.ZERO)
            .clock(clock)
            .ticker(() -> clock.millis() * 1_000_000L)
            .maxQueueTime(Duration.ofDays(365))
            .assignmentGrace(Duration.ofMillis(500))
            .build();
    DefaultScheduler<?, ?> internals = (DefaultScheduler<?, ?>) scheduler;
    List<SimulatedWorker> workers = new ArrayList<>();
    ExecutorService submitters = Executors.newFixedThreadPool(SUBMITTERS);
    try {
      for (int i = 0; i < MIN_WORKERS; i++) {
        workers.add(new SimulatedWorker(scheduler, "w" + i, chaos.nextLong(), mixedFleet));
      }
      List<CompletableFuture<?>> submitted = new ArrayList<>();
      for (int s = 0; s < SUBMITTERS; s++) {
        int first = s * (ACTIONS / SUBMITTERS);
        long seed = chaos.nextLong();
        submitted.add(
            CompletableFuture.runAsync(
                () -> submitAll(scheduler, platforms, first, seed, deadlines), submitters));
      }

      int nextName = MIN_WORKERS;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (!allCompleted()) {
        assertThat(System.nanoTime()).as("time to complete every action").isLessThan(deadline);
        for (CompletableFuture<?> submitter : submitted) {
          if (submitter.isCompletedExceptionally()) {
            submitter.join();
          }
        }
        // The timeout keeps the loop going when answer permits went to departed workers.
        submitPermits.release(SUBMISSIONS_PER_CHANGE);
        answerPermits.release(ANSWERS_PER_CHANGE);
        answers.tryAcquire(ANSWERS_PER_CHANGE, 50, TimeUnit.MILLISECONDS);
        int move = chaos.nextInt(3);
        if (workers.size() < MAX_WORKERS && (move == 0 || workers.size() == MIN_WORKERS)) {
          workers.add(
              new SimulatedWorker(scheduler, "w" + nextName++, chaos.nextLong(), mixedFleet));
        } else {
          workers.remove(chaos.nextInt(workers.size())).leave();
          disconnects++;
          if (move == 2) {
            workers.add(
                new SimulatedWorker(scheduler, "w" + nextName++, chaos.nextLong(), mixedFleet));
          }
        }
        if (deadlines) {
          clock.advance(Duration.ofMillis(chaos.nextInt(400)));
          scheduler.expireOverdue();
        }
        internals.checkInvariants();
      }
      CompletableFuture.allOf(submitted.toArray(new CompletableFuture<?>[0]))
          .get(30, TimeUnit.SECONDS);
      internals.checkInvariants();
      SchedulerStats stats = scheduler.stats();
      assertThat(stats.queued()).isZero();
      assertThat(stats.executing()).isZero();
      requeued = stats.requeued();
      overdue = stats.overdue();
    } finally {
      answerPermits.release(ACTIONS * 10);
      submitPermits.release(ACTIONS);
      submitters.shutdownNow();
      for (SimulatedWorker worker : workers) {
        worker.leave();
      }
      // Closing fails whatever is left, so a failed run cannot leave the checks below waiting.
      scheduler.close();
    }

    int cancelled = 0;
    for (int id = 0; id < ACTIONS; id++) {
      assertThat(outcomes.get(id)).as("outcomes of action %d", id).isEqualTo(1);
      HearthException error = errorOf(id);
      if (error == null) {
        assertThat(tickets.get(id).result().join()).isEqualTo(id);
        assertThat(accepted.get(id)).as("accepted answers for action %d", id).isEqualTo(1);
      } else {
        assertThat(accepted.get(id))
            .as("accepted answers for action %d", id)
            .isLessThanOrEqualTo(1);
        cancelled += error.code() == StatusCode.CANCELLED ? 1 : 0;
      }
    }
    assertThat(cancelled).isBetween(1, ACTIONS / 10);
    // Churn really hit running actions, and late answers from departed workers were discarded.
    assertThat(disconnects).isGreaterThan(50);
    assertThat(requeued).isPositive();
    assertThat(rejectedAnswers.get()).isPositive();
  }

  private HearthException errorOf(int id) {
    try {
      tickets.get(id).result().join();
      return null;
    } catch (CompletionException e) {
      assertThat(e.getCause()).isInstanceOf(HearthException.class);
      return (HearthException) e.getCause();
    }
  }

  private void submitAll(
      Scheduler<Integer, Integer> scheduler,
      List<Platform> platforms,
      int first,
      long seed,
      boolean deadlines) {
    Random random = new Random(seed);
    for (int id = first; id < first + ACTIONS / SUBMITTERS; id++) {
      try {
        submitPermits.acquire();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
      int platformIndex = random.nextInt(platforms.size());
      Platform platform = platforms.get(platformIndex);
      platformOf.set(id, platformIndex);
      int priority = random.nextInt(5) - 2;
      Ticket<Integer> ticket =
          scheduler.submit(
              new ActionRequest<>(
                  "action-" + id,
                  platform,
                  priority,
                  id,
                  deadlines ? Duration.ofSeconds(1) : Duration.ZERO));
      tickets.set(id, ticket);
      int ownId = id;
      ticket.result().whenComplete((value, error) -> outcomes.incrementAndGet(ownId));
      if (random.nextInt(50) == 0) {
        ticket.cancel();
      }
    }
  }

  private boolean allCompleted() {
    for (int id = 0; id < ACTIONS; id++) {
      if (outcomes.get(id) == 0) {
        return false;
      }
    }
    return true;
  }

  /** A worker that runs each action on its own thread with a little CPU work. */
  private final class SimulatedWorker implements WorkerListener<Integer, Integer> {
    private final ExecutorService thread = Executors.newSingleThreadExecutor();
    private final Random random;
    private final WorkerSession session;

    SimulatedWorker(
        Scheduler<Integer, Integer> scheduler, String name, long seed, boolean mixedFleet) {
      this.random = new Random(seed);
      boolean mac = mixedFleet && random.nextInt(8) == 0;
      WorkerSpec.Builder spec =
          WorkerSpec.builder(name)
              .slots(1 + random.nextInt(4))
              .property("OSFamily", mac ? "macos" : "linux")
              .property("cpu_count", Integer.toString(4 + random.nextInt(13)));
      if (random.nextBoolean()) {
        spec.property("pool", "ssd");
      }
      this.session = scheduler.connect(spec.build(), this);
    }

    @Override
    public void assign(Assignment<Integer, Integer> assignment) {
      thread.execute(
          () -> {
            work();
            try {
              answerPermits.acquire();
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
              return;
            }
            int id = assignment.request().task();
            if (assignment.complete(id)) {
              accepted.incrementAndGet(id);
            } else {
              rejectedAnswers.incrementAndGet();
            }
            answers.release();
          });
    }

    private void work() {
      long value = random.nextLong();
      for (int i = random.nextInt(5_000); i > 0; i--) {
        value = value * 6364136223846793005L + 1442695040888963407L;
      }
      sink.addAndGet(value);
    }

    void leave() {
      session.disconnect();
      // Queued work still runs and answers; those answers must be discarded.
      thread.shutdown();
    }
  }
}
