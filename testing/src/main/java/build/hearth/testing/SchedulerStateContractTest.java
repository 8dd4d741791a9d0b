package build.hearth.testing;

import static build.hearth.testing.ContractSupport.runConcurrently;
import static org.assertj.core.api.Assertions.assertThat;

import build.hearth.spi.scheduler.Adopted;
import build.hearth.spi.scheduler.Claim;
import build.hearth.spi.scheduler.Claimed;
import build.hearth.spi.scheduler.Enqueued;
import build.hearth.spi.scheduler.ExecutionRecord;
import build.hearth.spi.scheduler.QueuedExecution;
import build.hearth.spi.scheduler.Requeued;
import build.hearth.spi.scheduler.SchedulerState;
import build.hearth.spi.scheduler.WorkerRecord;
import com.google.protobuf.ByteString;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The conformance suite for {@link SchedulerState}s: queue order, atomic claims from several
 * clients, requeueing with its retry count, merging of identical actions, completion and retention,
 * operations, worker leases and adoption, and notifications.
 *
 * <pre>{@code
 * class RedisSchedulerStateTest extends SchedulerStateContractTest {
 *   protected SchedulerState open(Clock clock, String namespace) {
 *     return RedisSchedulerState.open(redis.uri(), namespace, clock);
 *   }
 * }
 * }</pre>
 *
 * <p>Every test opens its states with {@link #open}: two calls with the same namespace must give
 * two clients of one shared state (two servers), which the concurrency tests use. The suite passes
 * its {@link FakeClock} both to {@code open} and as the {@code now} of every call; a state that
 * expires records by another clock (Redis's own, for its time to live) overrides {@link
 * #letTimePass} to wait as well. The suite closes every state it opened.
 */
public abstract class SchedulerStateContractTest {

  /** For the test classes of states, which JUnit creates once per test. */
  protected SchedulerStateContractTest() {}

  private static final Duration GRACE = Duration.ofSeconds(30);
  private static final Duration LEASE = Duration.ofSeconds(20);
  private static final Duration RETENTION = Duration.ofMinutes(10);
  private static final int MAX_QUEUED = 1_000_000;

  /** The clock the suite passes to the states and reads its {@code now} from. */
  protected final FakeClock clock = new FakeClock();

  private final String namespace = "t" + Long.toHexString(System.nanoTime());
  private final List<SchedulerState> opened = Collections.synchronizedList(new ArrayList<>());
  private SchedulerState state;
  private final AtomicInteger nextId = new AtomicInteger();

  /**
   * Opens a client of the shared state named {@code namespace}: empty the first time, and the same
   * state for every later call with that namespace.
   *
   * @param clock the clock the state may use for its own expiry
   * @param namespace the shared state's name; tests use a fresh one each
   * @return an open state; the suite closes it
   */
  protected abstract SchedulerState open(Clock clock, String namespace);

  /**
   * Lets {@code duration} pass for the state's expiry of completed executions and operations. The
   * default moves {@link #clock}; a state that expires by a clock of its own also waits.
   *
   * @param duration how long
   */
  protected void letTimePass(Duration duration) {
    clock.advance(duration);
  }

  /** {@return the state of this test, opened on first use} */
  protected final SchedulerState state() {
    if (state == null) {
      state = another();
    }
    return state;
  }

  /** {@return another client of this test's shared state, as a second server would hold} */
  protected final SchedulerState another() {
    SchedulerState client = open(clock, namespace);
    opened.add(client);
    return client;
  }

  @AfterEach
  final void closeStates() {
    synchronized (opened) {
      opened.forEach(SchedulerState::close);
    }
  }

  // ---- the queue ----

  @Test
  void aClaimGivesTheQueuedEntryBackWithItsTask() {
    QueuedExecution entry = entry("linux", "action-1", 0, Duration.ofMinutes(5));
    assertThat(state().enqueue(entry, MAX_QUEUED))
        .isEqualTo(new Enqueued(Enqueued.Outcome.QUEUED, entry.executionId(), 1));

    Claimed claimed = claim(List.of("linux"), "w1").orElseThrow();

    assertThat(claimed.execution().executionId()).isEqualTo(entry.executionId());
    assertThat(claimed.execution().task()).isEqualTo(entry.task());
    assertThat(claimed.execution().queueKey()).isEqualTo("linux");
    assertThat(claimed.execution().actionKey()).isEqualTo("action-1");
    assertThat(claimed.execution().timeout()).isEqualTo(Duration.ofMinutes(5));
    assertThat(claimed.execution().attempt()).isEqualTo(1);
    assertThat(claimed.execution().lostWith()).isEmpty();
    assertThat(claimed.claim())
        .isEqualTo(
            new Claim(
                entry.executionId(),
                "w1",
                "s1",
                1,
                clock.instant(),
                Optional.of(clock.instant().plus(Duration.ofMinutes(5)).plus(GRACE))));
    assertThat(state().claimOf(entry.executionId())).contains(claimed.claim());
    assertThat(claim(List.of("linux"), "w2")).isEmpty();
  }

  @Test
  void anExecutionWithoutTimeoutIsClaimedWithoutDeadline() {
    state().enqueue(entry("linux", "", 0, Duration.ZERO), MAX_QUEUED);

    Claimed claimed = claim(List.of("linux"), "w1").orElseThrow();

    assertThat(claimed.claim().deadline()).isEmpty();
    clock.advance(Duration.ofDays(400));
    assertThat(state().overdueClaims(clock.instant(), 10)).isEmpty();
  }

  @Test
  void claimsTakeTheLowestPriorityNumberFirstThenTheOldestAcrossQueues() {
    QueuedExecution late = entry("a", "", 5, Duration.ZERO);
    QueuedExecution urgent = entry("b", "", -3, Duration.ZERO);
    QueuedExecution first = entry("b", "", 0, Duration.ZERO);
    QueuedExecution second = entry("a", "", 0, Duration.ZERO);
    for (QueuedExecution e : List.of(late, first, urgent, second)) {
      state().enqueue(e, MAX_QUEUED);
      clock.advance(Duration.ofMillis(1));
    }

    List<String> order = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      order.add(claim(List.of("a", "b"), "w").orElseThrow().execution().executionId());
    }

    assertThat(order)
        .containsExactly(
            urgent.executionId(), first.executionId(), second.executionId(), late.executionId());
  }

  @Test
  void aClaimLooksOnlyAtTheQueuesItNames() {
    QueuedExecution gpu = entry("gpu", "", 0, Duration.ZERO);
    state().enqueue(gpu, MAX_QUEUED);

    assertThat(claim(List.of("cpu", "unknown"), "w1")).isEmpty();
    assertThat(claim(List.of(), "w1")).isEmpty();
    assertThat(claim(List.of("gpu"), "w1").orElseThrow().execution().executionId())
        .isEqualTo(gpu.executionId());
  }

  @Test
  void queuesAndCountsTellWhatWaitsAndWhatRuns() {
    state().enqueue(entry("a", "", 0, Duration.ZERO), MAX_QUEUED);
    state().enqueue(entry("a", "", 0, Duration.ZERO), MAX_QUEUED);
    state().enqueue(entry("b", "", 0, Duration.ZERO), MAX_QUEUED);
    assertThat(state().queues()).isEqualTo(Map.of("a", 2L, "b", 1L));
    assertThat(state().counts()).isEqualTo(new SchedulerState.Counts(3, 0));

    claim(List.of("b"), "w1").orElseThrow();

    assertThat(state().queues()).isEqualTo(Map.of("a", 2L));
    assertThat(state().counts()).isEqualTo(new SchedulerState.Counts(2, 1));
  }

  @Test
  void aFullQueueRefusesAndARetriedEnqueueChangesNothing() {
    QueuedExecution one = entry("a", "", 0, Duration.ZERO);
    QueuedExecution two = entry("a", "", 0, Duration.ZERO);
    assertThat(state().enqueue(one, 1).outcome()).isEqualTo(Enqueued.Outcome.QUEUED);

    assertThat(state().enqueue(two, 1))
        .isEqualTo(new Enqueued(Enqueued.Outcome.FULL, two.executionId(), 1));
    assertThat(state().enqueue(one, 1))
        .isEqualTo(new Enqueued(Enqueued.Outcome.QUEUED, one.executionId(), 1));
    assertThat(state().queues()).isEqualTo(Map.of("a", 1L));
    assertThat(state().execution(two.executionId())).isEmpty();
  }

  // ---- merging ----

  @Test
  void anExecutionOfTheSameActionJoinsTheOneInFlightUntilItCompletes() {
    QueuedExecution first = entry("a", "action", 0, Duration.ZERO);
    QueuedExecution duplicate = entry("a", "action", 0, Duration.ZERO);
    state().enqueue(first, MAX_QUEUED);

    assertThat(another().enqueue(duplicate, MAX_QUEUED))
        .isEqualTo(new Enqueued(Enqueued.Outcome.JOINED, first.executionId(), 1));
    claim(List.of("a"), "w1").orElseThrow();
    assertThat(state().enqueue(duplicate, MAX_QUEUED).executionId()).isEqualTo(first.executionId());

    state().complete(first.executionId(), response("done"), RETENTION);
    QueuedExecution after = entry("a", "action", 0, Duration.ZERO);

    assertThat(state().enqueue(after, MAX_QUEUED))
        .isEqualTo(new Enqueued(Enqueued.Outcome.QUEUED, after.executionId(), 1));
  }

  @Test
  void executionsWithoutActionKeyAreNeverMerged() {
    assertThat(state().enqueue(entry("a", "", 0, Duration.ZERO), MAX_QUEUED).outcome())
        .isEqualTo(Enqueued.Outcome.QUEUED);
    assertThat(state().enqueue(entry("a", "", 0, Duration.ZERO), MAX_QUEUED).outcome())
        .isEqualTo(Enqueued.Outcome.QUEUED);
    assertThat(state().queues()).isEqualTo(Map.of("a", 2L));
  }

  @Test
  void identicalActionsSubmittedAtOnceThroughTwoServersRunOnce() {
    SchedulerState[] clients = {state(), another()};
    Set<String> followed = ConcurrentHashMap.newKeySet();
    AtomicInteger queued = new AtomicInteger();
    runConcurrently(
        8,
        (thread, barrier) -> {
          QueuedExecution mine = entry("a", "same-action", 0, Duration.ZERO);
          Enqueued answer = clients[thread % 2].enqueue(mine, MAX_QUEUED);
          followed.add(answer.executionId());
          if (answer.outcome() == Enqueued.Outcome.QUEUED) {
            queued.incrementAndGet();
          }
        });

    assertThat(queued).hasValue(1);
    assertThat(followed).hasSize(1);
    assertThat(state().queues()).isEqualTo(Map.of("a", 1L));
  }

  // ---- claims from several servers ----

  @Test
  void concurrentClaimsThroughTwoServersTakeEachExecutionExactlyOnce() {
    int executions = 200;
    Set<String> ids = ConcurrentHashMap.newKeySet();
    for (int i = 0; i < executions; i++) {
      QueuedExecution e = entry(i % 2 == 0 ? "a" : "b", "", i % 3, Duration.ZERO);
      ids.add(e.executionId());
      state().enqueue(e, MAX_QUEUED);
    }
    SchedulerState[] clients = {state(), another()};
    Map<String, String> claimedBy = new ConcurrentHashMap<>();
    List<String> twice = Collections.synchronizedList(new ArrayList<>());

    runConcurrently(
        6,
        (thread, barrier) -> {
          String worker = "w" + thread;
          while (true) {
            Optional<Claimed> claimed =
                clients[thread % 2].claim(
                    List.of("a", "b"), worker, "s" + (thread % 2), clock.instant(), GRACE);
            if (claimed.isEmpty()) {
              return;
            }
            if (claimedBy.put(claimed.get().execution().executionId(), worker) != null) {
              twice.add(claimed.get().execution().executionId());
            }
          }
        });

    assertThat(twice).isEmpty();
    assertThat(claimedBy.keySet()).isEqualTo(ids);
    assertThat(state().counts()).isEqualTo(new SchedulerState.Counts(0, executions));
  }

  // ---- requeueing ----

  @Test
  void aLostExecutionIsQueuedAgainAheadOfOthersOfItsPriority() {
    QueuedExecution lost = entry("a", "", 0, Duration.ZERO);
    state().enqueue(lost, MAX_QUEUED);
    claim(List.of("a"), "w1").orElseThrow();
    QueuedExecution waiting = entry("a", "", 0, Duration.ZERO);
    state().enqueue(waiting, MAX_QUEUED);
    clock.advance(Duration.ofSeconds(1));

    Requeued requeued = another().requeue(lost.executionId(), "w1", 3, true, clock.instant());

    assertThat(requeued.outcome()).isEqualTo(Requeued.Outcome.REQUEUED);
    QueuedExecution again = requeued.execution().orElseThrow();
    assertThat(again.attempt()).isEqualTo(2);
    assertThat(again.lostWith()).containsExactly("w1");
    assertThat(again.requeued()).isTrue();
    assertThat(again.enqueuedAt()).isEqualTo(clock.instant());
    assertThat(state().claimOf(lost.executionId())).isEmpty();
    Claimed next = claim(List.of("a"), "w2").orElseThrow();
    assertThat(next.execution()).isEqualTo(again);
    assertThat(next.claim().attempt()).isEqualTo(2);
    assertThat(state().execution(lost.executionId()).orElseThrow().attempt()).isEqualTo(2);
  }

  @Test
  void onlyTheWorkerHoldingAClaimLosesIt() {
    QueuedExecution e = entry("a", "", 0, Duration.ZERO);
    state().enqueue(e, MAX_QUEUED);
    claim(List.of("a"), "w1").orElseThrow();

    assertThat(state().requeue(e.executionId(), "w2", 3, true, clock.instant()))
        .isEqualTo(new Requeued(Requeued.Outcome.NOT_CLAIMED, Optional.empty()));
    assertThat(state().requeue("unknown", "w1", 3, true, clock.instant()).outcome())
        .isEqualTo(Requeued.Outcome.NOT_CLAIMED);
    assertThat(state().requeue(e.executionId(), "w1", 3, true, clock.instant()).outcome())
        .isEqualTo(Requeued.Outcome.REQUEUED);
    // A second server seeing the same loss changes nothing.
    assertThat(another().requeue(e.executionId(), "w1", 3, true, clock.instant()).outcome())
        .isEqualTo(Requeued.Outcome.NOT_CLAIMED);
    assertThat(state().queues()).isEqualTo(Map.of("a", 1L));
  }

  @Test
  void anExecutionLostMoreOftenThanAllowedIsGivenUpAndKeepsItsClaimUntilCompleted() {
    QueuedExecution e = entry("a", "action", 0, Duration.ZERO);
    state().enqueue(e, MAX_QUEUED);
    for (String worker : List.of("w1", "w2")) {
      claim(List.of("a"), worker).orElseThrow();
      assertThat(state().requeue(e.executionId(), worker, 2, true, clock.instant()).outcome())
          .isEqualTo(Requeued.Outcome.REQUEUED);
    }
    claim(List.of("a"), "w3").orElseThrow();

    Requeued gaveUp = state().requeue(e.executionId(), "w3", 2, true, clock.instant());

    assertThat(gaveUp.outcome()).isEqualTo(Requeued.Outcome.GAVE_UP);
    assertThat(gaveUp.execution().orElseThrow().lostWith()).containsExactly("w1", "w2", "w3");
    assertThat(state().claimOf(e.executionId()).orElseThrow().workerId()).isEqualTo("w3");
    assertThat(state().complete(e.executionId(), response("lost 3 times"), RETENTION)).isTrue();
    assertThat(state().claimOf(e.executionId())).isEmpty();
    assertThat(state().counts()).isEqualTo(new SchedulerState.Counts(0, 0));
  }

  @Test
  void aClaimTheWorkerNeverReceivedIsQueuedAgainWithoutCountingAnAttempt() {
    QueuedExecution e = entry("a", "", 0, Duration.ZERO);
    state().enqueue(e, MAX_QUEUED);
    claim(List.of("a"), "w1").orElseThrow();

    Requeued requeued = state().requeue(e.executionId(), "w1", 0, false, clock.instant());

    assertThat(requeued.outcome()).isEqualTo(Requeued.Outcome.REQUEUED);
    assertThat(requeued.execution().orElseThrow().attempt()).isEqualTo(1);
    assertThat(requeued.execution().orElseThrow().lostWith()).isEmpty();
  }

  // ---- expiry of the queue and of claims ----

  @Test
  void queuedBeforeListsTheOldestEntriesFirst() {
    QueuedExecution old1 = entry("a", "", 0, Duration.ZERO);
    state().enqueue(old1, MAX_QUEUED);
    clock.advance(Duration.ofSeconds(1));
    QueuedExecution old2 = entry("b", "", -5, Duration.ZERO);
    state().enqueue(old2, MAX_QUEUED);
    clock.advance(Duration.ofSeconds(1));
    Instant cut = clock.instant();
    state().enqueue(entry("a", "", 0, Duration.ZERO), MAX_QUEUED);

    assertThat(state().queuedBefore(cut, 10))
        .extracting(QueuedExecution::executionId)
        .containsExactly(old1.executionId(), old2.executionId());
    assertThat(state().queuedBefore(cut, 1))
        .extracting(QueuedExecution::executionId)
        .containsExactly(old1.executionId());
    assertThat(state().queues()).isEqualTo(Map.of("a", 2L, "b", 1L));
  }

  @Test
  void overdueClaimsAreListedFirstDueFirst() {
    QueuedExecution slow = entry("a", "", 0, Duration.ofMinutes(10));
    QueuedExecution quick = entry("a", "", 0, Duration.ofMinutes(1));
    state().enqueue(slow, MAX_QUEUED);
    state().enqueue(quick, MAX_QUEUED);
    claim(List.of("a"), "w1").orElseThrow();
    claim(List.of("a"), "w2").orElseThrow();

    assertThat(state().overdueClaims(clock.instant(), 10)).isEmpty();
    clock.advance(Duration.ofMinutes(1).plus(GRACE));
    assertThat(state().overdueClaims(clock.instant(), 10))
        .extracting(Claim::executionId)
        .containsExactly(quick.executionId());
    clock.advance(Duration.ofMinutes(20));
    assertThat(state().overdueClaims(clock.instant(), 10))
        .extracting(Claim::executionId)
        .containsExactly(quick.executionId(), slow.executionId());
  }

  // ---- completion ----

  @Test
  void anExecutionGoesFromQueuedToExecutingToCompleted() {
    QueuedExecution e = entry("a", "action", 0, Duration.ZERO);
    state().enqueue(e, MAX_QUEUED);
    assertThat(another().execution(e.executionId()))
        .contains(
            new ExecutionRecord(
                e.executionId(), "action", ExecutionRecord.Stage.QUEUED, 1, "", Optional.empty()));

    claim(List.of("a"), "w1").orElseThrow();
    assertThat(another().execution(e.executionId()).orElseThrow())
        .isEqualTo(
            new ExecutionRecord(
                e.executionId(),
                "action",
                ExecutionRecord.Stage.EXECUTING,
                1,
                "w1",
                Optional.empty()));

    assertThat(state().complete(e.executionId(), response("result"), RETENTION)).isTrue();
    assertThat(another().execution(e.executionId()).orElseThrow())
        .isEqualTo(
            new ExecutionRecord(
                e.executionId(),
                "action",
                ExecutionRecord.Stage.COMPLETED,
                1,
                "",
                Optional.of(response("result"))));
    assertThat(state().counts()).isEqualTo(new SchedulerState.Counts(0, 0));
  }

  @Test
  void theFirstCompletionWins() {
    QueuedExecution e = entry("a", "", 0, Duration.ZERO);
    state().enqueue(e, MAX_QUEUED);
    claim(List.of("a"), "w1").orElseThrow();

    assertThat(state().complete(e.executionId(), response("first"), RETENTION)).isTrue();
    assertThat(another().complete(e.executionId(), response("second"), RETENTION)).isFalse();
    assertThat(state().complete("unknown", response("x"), RETENTION)).isFalse();
    assertThat(state().execution(e.executionId()).orElseThrow().response())
        .contains(response("first"));
  }

  @Test
  void completingAQueuedExecutionTakesItOutOfItsQueue() {
    QueuedExecution cancelled = entry("a", "", 0, Duration.ZERO);
    state().enqueue(cancelled, MAX_QUEUED);

    assertThat(state().complete(cancelled.executionId(), response("cancelled"), RETENTION))
        .isTrue();

    assertThat(state().queues()).isEmpty();
    assertThat(claim(List.of("a"), "w1")).isEmpty();
    assertThat(state().queuedBefore(clock.instant().plusSeconds(1), 10)).isEmpty();
  }

  @Test
  void aCompletedExecutionIsForgottenAfterItsRetention() {
    QueuedExecution e = entry("a", "", 0, Duration.ZERO);
    state().enqueue(e, MAX_QUEUED);
    state().complete(e.executionId(), response("r"), Duration.ofMillis(200));

    letTimePass(Duration.ofMillis(700));

    assertThat(state().execution(e.executionId())).isEmpty();
  }

  @Test
  void completionsAndQueueingAreToldToEveryServer() throws InterruptedException {
    BlockingQueue<String> events = new LinkedBlockingQueue<>();
    SchedulerState listener = another();
    try (AutoCloseable subscription =
        listener.subscribe(
            new SchedulerState.Listener() {
              @Override
              public void queued(String queueKey) {
                events.add("queued " + queueKey);
              }

              @Override
              public void completed(String executionId) {
                events.add("completed " + executionId);
              }
            })) {
      QueuedExecution e = entry("linux", "", 0, Duration.ZERO);
      state().enqueue(e, MAX_QUEUED);
      assertThat(events.poll(30, TimeUnit.SECONDS)).isEqualTo("queued linux");
      state().complete(e.executionId(), response("r"), RETENTION);
      assertThat(events.poll(30, TimeUnit.SECONDS)).isEqualTo("completed " + e.executionId());
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  // ---- operations ----

  @Test
  void anOperationNamesItsExecutionUntilItExpires() {
    SchedulerState server2 = another();
    // Long enough for the reads below on a busy machine, short enough to wait out.
    Duration ttl = Duration.ofSeconds(1);
    state().putOperation("ops/1", "exec-1", ttl);
    assertThat(server2.operation("ops/1")).contains("exec-1");
    state().putOperation("ops/1", "exec-2", ttl);
    assertThat(server2.operation("ops/1")).contains("exec-2");
    assertThat(state().operation("ops/unknown")).isEmpty();

    letTimePass(ttl.plusMillis(500));

    assertThat(state().operation("ops/1")).isEmpty();
  }

  // ---- workers ----

  @Test
  void workersCountWhileTheirLeaseHolds() {
    WorkerRecord w1 = worker("w1", "s1");
    WorkerRecord w2 = worker("w2", "s2");
    state().register(w1, clock.instant(), LEASE);
    another().register(w2, clock.instant(), Duration.ofSeconds(5));

    assertThat(state().workers(clock.instant())).containsExactly(w1, w2);
    clock.advance(Duration.ofSeconds(10));
    assertThat(another().workers(clock.instant())).containsExactly(w1);
    assertThat(state().renew("w2", "s2", clock.instant(), LEASE)).isTrue();
    assertThat(state().workers(clock.instant())).containsExactly(w1, w2);
    assertThat(state().renew("w1", "s2", clock.instant(), LEASE)).isFalse();
    assertThat(state().renew("nobody", "s1", clock.instant(), LEASE)).isFalse();

    state().unregister("w1", "s2");
    assertThat(state().workers(clock.instant())).containsExactly(w1, w2);
    state().unregister("w1", "s1");
    assertThat(state().workers(clock.instant())).containsExactly(w2);
  }

  @Test
  void theClaimsOfAWorkerWhoseLeaseLapsedAreHandedBackOnce() {
    state().register(worker("dead", "s1"), clock.instant(), LEASE);
    state().register(worker("alive", "s1"), clock.instant(), LEASE);
    QueuedExecution lost = entry("a", "", 0, Duration.ZERO);
    QueuedExecution safe = entry("a", "", 0, Duration.ZERO);
    state().enqueue(lost, MAX_QUEUED);
    state().enqueue(safe, MAX_QUEUED);
    claim(List.of("a"), "dead").orElseThrow();
    claim(List.of("a"), "alive").orElseThrow();
    assertThat(state().lapsed(clock.instant(), 10)).isEmpty();

    clock.advance(LEASE.plusSeconds(1));
    state().renew("alive", "s1", clock.instant(), LEASE);
    List<Claim> orphaned = another().lapsed(clock.instant(), 10);

    assertThat(orphaned).extracting(Claim::executionId).containsExactly(lost.executionId());
    assertThat(state().workers(clock.instant()))
        .extracting(WorkerRecord::workerId)
        .containsExactly("alive");
    assertThat(state().requeue(lost.executionId(), "dead", 3, true, clock.instant()).outcome())
        .isEqualTo(Requeued.Outcome.REQUEUED);
    assertThat(state().lapsed(clock.instant(), 10)).isEmpty();
    assertThat(state().renew("dead", "s1", clock.instant(), LEASE)).isFalse();
  }

  @Test
  void aWorkerUnregisteredCleanlyKeepsItsClaimsUntilItsLeaseLapses() {
    state().register(worker("w1", "s1"), clock.instant(), LEASE);
    QueuedExecution e = entry("a", "", 0, Duration.ZERO);
    state().enqueue(e, MAX_QUEUED);
    claim(List.of("a"), "w1").orElseThrow();

    state().unregister("w1", "s1");
    assertThat(state().lapsed(clock.instant(), 10)).isEmpty();
    clock.advance(LEASE.plusSeconds(1));

    assertThat(state().lapsed(clock.instant(), 10))
        .extracting(Claim::executionId)
        .containsExactly(e.executionId());
  }

  @Test
  void aWorkerReattachingThroughAnotherServerKeepsWhatItStillRuns() {
    state().register(worker("w1", "s1"), clock.instant(), LEASE);
    QueuedExecution running = entry("a", "", 0, Duration.ofMinutes(1));
    QueuedExecution finished = entry("a", "", 0, Duration.ZERO);
    state().enqueue(running, MAX_QUEUED);
    state().enqueue(finished, MAX_QUEUED);
    Claim runningClaim = claim(List.of("a"), "w1").orElseThrow().claim();
    claim(List.of("a"), "w1").orElseThrow();

    SchedulerState s2 = another();
    s2.register(worker("w1", "s2"), clock.instant(), LEASE);
    Adopted adopted = s2.adopt("w1", "s2", List.of(running.executionId(), "gone"));

    assertThat(adopted.adopted())
        .extracting(Claimed::claim)
        .containsExactly(
            new Claim(
                running.executionId(),
                "w1",
                "s2",
                1,
                runningClaim.claimedAt(),
                runningClaim.deadline()));
    assertThat(adopted.notRunning())
        .extracting(Claim::executionId)
        .containsExactly(finished.executionId());
    assertThat(state().claimOf(running.executionId()).orElseThrow().serverId()).isEqualTo("s2");
    assertThat(state().renew("w1", "s1", clock.instant(), LEASE)).isFalse();
    assertThat(s2.renew("w1", "s2", clock.instant(), LEASE)).isTrue();
    assertThat(s2.adopt("nobody", "s2", List.of())).isEqualTo(new Adopted(List.of(), List.of()));
  }

  @Test
  void anAdoptedClaimComesWithItsQueueEntrySoTheAdoptingServerCanAcceptTheAnswer() {
    state().register(worker("w1", "s1"), clock.instant(), LEASE);
    QueuedExecution e = entry("a", "digest-1", 3, Duration.ofMinutes(1));
    state().enqueue(e, MAX_QUEUED);
    Claimed claimed = claim(List.of("a"), "w1").orElseThrow();

    SchedulerState s2 = another();
    s2.register(worker("w1", "s2"), clock.instant(), LEASE);
    Adopted adopted = s2.adopt("w1", "s2", List.of(e.executionId()));

    assertThat(adopted.adopted()).hasSize(1);
    QueuedExecution entry = adopted.adopted().get(0).execution();
    assertThat(entry.executionId()).isEqualTo(e.executionId());
    assertThat(entry.task()).isEqualTo(e.task());
    assertThat(entry.enqueuedAt()).isEqualTo(claimed.execution().enqueuedAt());
    assertThat(entry.priority()).isEqualTo(3);
    assertThat(entry.actionKey()).isEqualTo("digest-1");
    assertThat(entry.timeout()).isEqualTo(Duration.ofMinutes(1));
    assertThat(entry.attempt()).isEqualTo(1);
    assertThat(adopted.adopted().get(0).claim().serverId()).isEqualTo("s2");
    // Adopted, it is the worker's again: its renewed lease keeps it from lapsed().
    clock.advance(LEASE.dividedBy(2));
    s2.renew("w1", "s2", clock.instant(), LEASE);
    clock.advance(LEASE.dividedBy(2).plusSeconds(1));
    assertThat(s2.lapsed(clock.instant(), 10)).isEmpty();
  }

  @Test
  void aWorkerCannotAdoptAnotherWorkersClaims() {
    state().register(worker("w1", "s1"), clock.instant(), LEASE);
    QueuedExecution e = entry("a", "", 0, Duration.ZERO);
    state().enqueue(e, MAX_QUEUED);
    claim(List.of("a"), "w1").orElseThrow();

    SchedulerState s2 = another();
    s2.register(worker("intruder", "s2"), clock.instant(), LEASE);
    Adopted adopted = s2.adopt("intruder", "s2", List.of(e.executionId()));

    assertThat(adopted.adopted()).isEmpty();
    assertThat(adopted.notRunning()).isEmpty();
    Claim claim = state().claimOf(e.executionId()).orElseThrow();
    assertThat(claim.workerId()).isEqualTo("w1");
    assertThat(claim.serverId()).isEqualTo("s1");
  }

  // ---- helpers ----

  /**
   * A new entry with a unique id and a task naming it, queued now.
   *
   * @param queueKey its queue
   * @param actionKey its action key, or empty
   * @param priority its priority
   * @param timeout its timeout
   * @return the entry
   */
  protected final QueuedExecution entry(
      String queueKey, String actionKey, int priority, Duration timeout) {
    String id = "exec-" + nextId.getAndIncrement() + "-" + namespace;
    return QueuedExecution.of(
        id,
        queueKey,
        actionKey,
        priority,
        timeout,
        ByteString.copyFromUtf8("task of " + id),
        clock.instant());
  }

  private Optional<Claimed> claim(List<String> queueKeys, String workerId) {
    return state().claim(queueKeys, workerId, "s1", clock.instant(), GRACE);
  }

  private static ByteString response(String text) {
    return ByteString.copyFromUtf8(text);
  }

  private static WorkerRecord worker(String id, String server) {
    return new WorkerRecord(
        id,
        server,
        Map.of("OSFamily", List.of("Linux"), "cpu", List.of("x86_64", "amd64")),
        4,
        Set.of("javac-key"),
        false);
  }
}
