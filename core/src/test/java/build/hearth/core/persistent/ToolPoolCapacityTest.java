package build.hearth.core.persistent;

import static build.hearth.core.persistent.ToolPoolTesting.deterministic;
import static build.hearth.core.persistent.ToolPoolTesting.key;
import static build.hearth.core.persistent.ToolPoolTesting.limits;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import build.hearth.api.HearthException;
import build.hearth.api.PoolLimits;
import build.hearth.api.PoolStats.Counters;
import build.hearth.api.RetirementReason;
import build.hearth.api.StatusCode;
import build.hearth.core.execution.Cancellation;
import build.hearth.testing.FakeClock;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** How acquires behave when the per-key or the pool-wide cap is reached. */
class ToolPoolCapacityTest {
  private static final Duration LONG = Duration.ofMinutes(1);

  @TempDir Path root;
  private final FakeClock clock = new FakeClock();
  private final FakeToolProcess.Factory factory = new FakeToolProcess.Factory();
  private ToolPool pool;

  private ToolPool pool(PoolLimits limits) {
    return pool(deterministic(clock, root, factory).defaultLimits(limits));
  }

  private ToolPool pool(ToolPoolBuilder builder) {
    pool = builder.build();
    return pool;
  }

  @AfterEach
  void closeAndCheck() {
    if (pool != null) {
      pool.checkInvariants();
      pool.close();
      assertThat(factory.running()).isZero();
    }
  }

  private CompletableFuture<Lease> acquireAsync(ToolKey key, Duration maxWait) {
    return acquireAsync(key, maxWait, null);
  }

  private CompletableFuture<Lease> acquireAsync(
      ToolKey key, Duration maxWait, Cancellation cancellation) {
    int waitingBefore = pool.stats().waiting();
    CompletableFuture<Lease> future =
        CompletableFuture.supplyAsync(() -> pool.acquire(key, maxWait, cancellation));
    await().until(() -> future.isDone() || pool.stats().waiting() > waitingBefore);
    return future;
  }

  private static HearthException failure(CompletableFuture<?> future) {
    try {
      future.get(1, TimeUnit.MINUTES);
    } catch (ExecutionException e) {
      return (HearthException) e.getCause();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
    throw new AssertionError("the acquire succeeded");
  }

  @Test
  void atTheKeysCapAnAcquireWaitsForARelease() {
    ToolPool pool = pool(limits().maxProcessesPerKey(2).build());
    ToolKey key = key("k");
    Lease first = pool.acquire(key, LONG);
    Lease second = pool.acquire(key, LONG);

    CompletableFuture<Lease> waiting = acquireAsync(key, LONG);
    assertThat(waiting).isNotDone();
    assertThat(pool.stats().key(key.fingerprint()).orElseThrow().waiting()).isEqualTo(1);
    assertThat(pool.stats().key(key.fingerprint()).orElseThrow().counters().waitsAtCap())
        .isEqualTo(1);

    second.release();
    Lease third = waiting.join();
    assertThat(third.process()).isSameAs(second.process());
    assertThat(third.warm()).isTrue();
    assertThat(factory.started()).hasSize(2);
    assertThat(factory.maxRunning(key)).isEqualTo(2);
    first.release();
    third.release();
  }

  @Test
  void aCrashRetirementFreesTheSlotForAWaiter() {
    ToolPool pool = pool(limits().maxProcessesPerKey(1).build());
    ToolKey key = key("k");
    Lease crashing = pool.acquire(key, LONG);
    CompletableFuture<Lease> waiting = acquireAsync(key, LONG);

    crashing.retire(RetirementReason.CRASH, "it wrote 'hello' on stdout");

    Lease fresh = waiting.join();
    assertThat(fresh.process()).isNotSameAs(crashing.process());
    assertThat(fresh.warm()).isFalse();
    assertThat(crashing.process().isAlive()).isFalse();
    Counters counters = pool.stats().totals();
    assertThat(counters.retired(RetirementReason.CRASH)).isEqualTo(1);
    assertThat(counters.spawns()).isEqualTo(2);
    fresh.release();
  }

  @Test
  void aRetiredProcessKeepsItsSlotUntilItHasEnded() {
    List<Runnable> ends = new CopyOnWriteArrayList<>();
    ToolPool pool =
        pool(
            deterministic(clock, root, factory)
                .defaultLimits(limits().maxProcessesPerKey(1).build())
                .retirementExecutor(ends::add));
    ToolKey key = key("k");
    pool.acquire(key, LONG).retire(RetirementReason.CRASH, "");
    assertThat(pool.stats().key(key.fingerprint()).orElseThrow().retiring()).isEqualTo(1);

    assertThatThrownBy(() -> pool.acquire(key, Duration.ZERO))
        .isInstanceOfSatisfying(
            HearthException.class,
            e -> assertThat(e.code()).isEqualTo(StatusCode.RESOURCE_EXHAUSTED));
    CompletableFuture<Lease> waiting = acquireAsync(key, LONG);
    assertThat(factory.running(key)).isEqualTo(1);

    runAll(ends);
    Lease lease = waiting.join();
    assertThat(factory.maxRunning(key)).isEqualTo(1);
    lease.retire(RetirementReason.CRASH, "");
    runAll(ends);
  }

  private static void runAll(List<Runnable> tasks) {
    List<Runnable> now = List.copyOf(tasks);
    tasks.removeAll(now);
    now.forEach(Runnable::run);
  }

  @Test
  void underOneShotAnAcquireAtTheCapGetsAOneShotLease() {
    ToolPool pool =
        pool(limits().maxProcessesPerKey(1).atCapacity(PoolLimits.AtCapacity.ONE_SHOT).build());
    ToolKey key = key("k");
    Lease busy = pool.acquire(key, LONG);

    Lease oneShot = pool.acquire(key, LONG);

    assertThat(oneShot.oneShot()).isTrue();
    assertThat(oneShot.key()).isEqualTo(key);
    assertThat(factory.started()).hasSize(1);
    Counters counters = pool.stats().key(key.fingerprint()).orElseThrow().counters();
    assertThat(counters.oneShotRuns()).isEqualTo(1);
    assertThat(counters.waitsAtCap()).isZero();
    assertThat(counters.requests()).isEqualTo(1);
    oneShot.release();
    busy.release();
    assertThat(pool.acquire(key, LONG).warm()).isTrue();
  }

  @Test
  void aZeroWaitFailsAtOnceAndAShortWaitRunsOut() {
    ToolPool pool = pool(limits().maxProcessesPerKey(1).build());
    ToolKey key = key("k");
    Lease busy = pool.acquire(key, LONG);

    assertThatThrownBy(() -> pool.acquire(key, Duration.ZERO))
        .isInstanceOfSatisfying(
            HearthException.class,
            e -> assertThat(e.code()).isEqualTo(StatusCode.RESOURCE_EXHAUSTED))
        .hasMessageContaining("1 of at most 1 processes of the key")
        .hasMessageContaining("raise maxProcessesPerKey");
    assertThatThrownBy(() -> pool.acquire(key, Duration.ofMillis(20)))
        .isInstanceOfSatisfying(
            HearthException.class,
            e -> assertThat(e.code()).isEqualTo(StatusCode.RESOURCE_EXHAUSTED))
        .hasMessageContaining("within 20ms");
    assertThat(pool.stats().waiting()).isZero();
    assertThat(pool.stats().totals().waitsAtCap()).isEqualTo(2);
    busy.release();
  }

  @Test
  void cancellingAWaitingAcquireStopsItsWait() {
    ToolPool pool = pool(limits().maxProcessesPerKey(1).build());
    ToolKey key = key("k");
    Lease busy = pool.acquire(key, LONG);
    Cancellation cancellation = new Cancellation();
    CompletableFuture<Lease> waiting = acquireAsync(key, Duration.ofHours(1), cancellation);

    cancellation.cancel();

    HearthException error = failure(waiting);
    assertThat(error.code()).isEqualTo(StatusCode.CANCELLED);
    assertThat(error).hasMessageContaining("was cancelled while it waited");
    assertThat(pool.stats().waiting()).isZero();
    busy.release();
    assertThat(pool.stats().key(key.fingerprint()).orElseThrow().idle()).isEqualTo(1);
  }

  @Test
  void anAcquireAlreadyCancelledStartsNothing() {
    ToolPool pool = pool(PoolLimits.DEFAULTS);
    Cancellation cancellation = new Cancellation();
    cancellation.cancel();

    assertThatThrownBy(() -> pool.acquire(key("k"), LONG, cancellation))
        .isInstanceOfSatisfying(
            HearthException.class, e -> assertThat(e.code()).isEqualTo(StatusCode.CANCELLED));
    assertThat(factory.started()).isEmpty();
  }

  @Test
  void aCancellationDuringTheStartLeavesTheProcessIdle() {
    ToolPool pool = pool(PoolLimits.DEFAULTS);
    ToolKey key = key("k");
    Cancellation cancellation = new Cancellation();
    factory.closeGate();
    CompletableFuture<Lease> starting =
        CompletableFuture.supplyAsync(() -> pool.acquire(key, LONG, cancellation));
    await().until(() -> factory.waitingAtGate() == 1);

    cancellation.cancel();
    factory.openGate();

    assertThat(failure(starting).code()).isEqualTo(StatusCode.CANCELLED);
    assertThat(pool.stats().key(key.fingerprint()).orElseThrow().idle()).isEqualTo(1);
    Lease next = pool.acquire(key, LONG);
    assertThat(next.requestNumber()).isEqualTo(1);
    next.release();
  }

  @Test
  void interruptingAWaitingAcquireStopsItsWaitAndKeepsTheFlag() {
    ToolPool pool = pool(limits().maxProcessesPerKey(1).build());
    ToolKey key = key("k");
    Lease busy = pool.acquire(key, LONG);
    AtomicReference<HearthException> error = new AtomicReference<>();
    AtomicReference<Boolean> flag = new AtomicReference<>();
    Thread thread =
        new Thread(
            () -> {
              try {
                pool.acquire(key, LONG);
              } catch (HearthException e) {
                error.set(e);
                flag.set(Thread.currentThread().isInterrupted());
              }
            });
    thread.start();
    await().until(() -> pool.stats().waiting() == 1);

    thread.interrupt();

    await().until(() -> flag.get() != null);
    assertThat(error.get().code()).isEqualTo(StatusCode.CANCELLED);
    assertThat(error.get()).hasMessageContaining("was interrupted");
    assertThat(flag.get()).isTrue();
    busy.release();
  }

  @Test
  void closingThePoolFailsWaitingAcquiresWithUnavailable() {
    ToolPool pool = pool(limits().maxProcessesPerKey(1).build());
    ToolKey key = key("k");
    Lease busy = pool.acquire(key, LONG);
    CompletableFuture<Lease> waiting = acquireAsync(key, LONG);

    pool.close();

    assertThat(failure(waiting).code()).isEqualTo(StatusCode.UNAVAILABLE);
    assertThat(busy.process().isAlive()).isFalse();
    busy.release();
  }

  @Test
  void waitingAcquiresAreServedInTheOrderTheyCame() {
    ToolPool pool = pool(limits().maxProcessesPerKey(1).build());
    ToolKey key = key("k");
    Lease busy = pool.acquire(key, LONG);
    CompletableFuture<Lease> first = acquireAsync(key, LONG);
    CompletableFuture<Lease> second = acquireAsync(key, LONG);

    busy.release();
    Lease firstLease = first.join();
    assertThat(second).isNotDone();
    firstLease.release();
    second.join().release();
  }

  @Test
  void atThePoolsCapTheLeastRecentlyUsedIdleProcessOfAnotherKeyMakesRoom() {
    ToolPool pool = pool(deterministic(clock, root, factory).maxProcesses(2));
    ToolKey a = key("a");
    ToolKey b = key("b");
    Lease a1 = pool.acquire(a, LONG);
    Lease a2 = pool.acquire(a, LONG);
    a1.release();
    clock.advance(Duration.ofSeconds(1));
    a2.release();

    Lease b1 = pool.acquire(b, LONG);

    assertThat(b1.warm()).isFalse();
    assertThat(a1.process().isAlive()).isFalse();
    assertThat(a2.process().isAlive()).isTrue();
    Counters ofA = pool.stats().key(a.fingerprint()).orElseThrow().counters();
    assertThat(ofA.evictions()).isEqualTo(1);
    assertThat(ofA.retired(RetirementReason.IDLE)).isEqualTo(1);
    assertThat(ofA.idleRestarts()).isZero();
    assertThat(factory.maxRunning()).isEqualTo(2);
    assertThat(pool.stats().maxAlive()).isEqualTo(2);
    b1.release();
  }

  @Test
  void atThePoolsCapWithEveryProcessBusyAnAcquireWaitsAndGetsTheFirstReleasedSlot() {
    ToolPool pool = pool(deterministic(clock, root, factory).maxProcesses(1));
    ToolKey a = key("a");
    ToolKey b = key("b");
    Lease busy = pool.acquire(a, LONG);
    CompletableFuture<Lease> waiting = acquireAsync(b, LONG);
    assertThat(pool.stats().key(b.fingerprint()).orElseThrow().counters().waitsAtCap())
        .isEqualTo(1);

    busy.release();

    Lease lease = waiting.join();
    assertThat(lease.key()).isEqualTo(b);
    assertThat(busy.process().isAlive()).isFalse();
    assertThat(pool.stats().key(a.fingerprint()).orElseThrow().counters().evictions()).isEqualTo(1);
    assertThat(factory.maxRunning()).isEqualTo(1);
    lease.release();
  }

  @Test
  void aProcessStartsWithoutThePoolsLock() {
    ToolPool pool = pool(PoolLimits.DEFAULTS);
    Lease other = pool.acquire(key("other"), LONG);
    other.release();
    factory.closeGate();
    CompletableFuture<Lease> starting =
        CompletableFuture.supplyAsync(() -> pool.acquire(key("k"), LONG));
    await().until(() -> factory.waitingAtGate() == 1);

    // Leases of other keys come and go while the start is under way.
    Lease again = pool.acquire(key("other"), LONG);
    assertThat(again.warm()).isTrue();
    again.release();
    assertThat(pool.stats().key(key("k").fingerprint()).orElseThrow().starting()).isEqualTo(1);

    factory.openGate();
    starting.join().release();
  }
}
