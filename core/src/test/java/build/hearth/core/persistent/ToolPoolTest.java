package build.hearth.core.persistent;

import static build.hearth.core.persistent.ToolPoolTesting.deterministic;
import static build.hearth.core.persistent.ToolPoolTesting.key;
import static build.hearth.core.persistent.ToolPoolTesting.limits;
import static build.hearth.core.persistent.ToolPoolTesting.multiplexKey;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import build.hearth.api.HearthException;
import build.hearth.api.PoolLimits;
import build.hearth.api.PoolStats;
import build.hearth.api.PoolStats.Counters;
import build.hearth.api.PoolStats.KeyStats;
import build.hearth.api.PoolStats.ProcessState;
import build.hearth.api.PoolStats.ProcessStats;
import build.hearth.api.RetirementReason;
import build.hearth.api.StatusCode;
import build.hearth.api.ToolProtocol;
import build.hearth.proto.worker.WorkRequest;
import build.hearth.testing.FakeClock;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ToolPoolTest {
  private static final Duration WAIT = Duration.ofMinutes(1);

  @TempDir Path root;
  private final FakeClock clock = new FakeClock();
  private final FakeToolProcess.Factory factory = new FakeToolProcess.Factory();
  private ToolPool pool;

  private ToolPool pool(ToolPoolBuilder builder) {
    pool = builder.build();
    return pool;
  }

  private ToolPool pool() {
    return pool(deterministic(clock, root, factory));
  }

  @AfterEach
  void closeAndCheck() {
    if (pool != null) {
      pool.checkInvariants();
      pool.close();
      pool.checkInvariants();
      assertThat(factory.running()).as("processes still running after close").isZero();
    }
  }

  @Test
  void theFirstLeaseStartsAProcessInItsOwnDirectoryAndTheNextOneReusesIt() {
    ToolPool pool = pool();
    ToolKey key = key("k");

    Lease first = pool.acquire(key, WAIT);
    FakeToolProcess process = factory.last();
    assertThat(first.oneShot()).isFalse();
    assertThat(first.warm()).isFalse();
    assertThat(first.requestNumber()).isEqualTo(1);
    assertThat(first.requestId()).isZero();
    assertThat(first.process()).isSameAs(process);
    assertThat(first.processDirectory()).isEqualTo(root.resolve(key.shortFingerprint() + "-1"));
    assertThat(process.directory).isEqualTo(first.processDirectory());
    assertThat(process.directoryExistedAtStart).isTrue();
    first.release();

    Lease second = pool.acquire(key, WAIT);
    assertThat(second.process()).isSameAs(process);
    assertThat(second.warm()).isTrue();
    assertThat(second.requestNumber()).isEqualTo(2);
    second.release();

    assertThat(factory.started()).hasSize(1);
    Counters counters = pool.stats().key(key.fingerprint()).orElseThrow().counters();
    assertThat(counters.spawns()).isEqualTo(1);
    assertThat(counters.requests()).isEqualTo(2);
    assertThat(counters.coldRequests()).isEqualTo(1);
    assertThat(counters.warmRequests()).isEqualTo(1);
    assertThat(counters.latencyCount()).isEqualTo(2);
    assertThat(pool.stats().totals()).isEqualTo(counters);
  }

  @Test
  void latencyIsTheTimeALeaseIsHeld() {
    ToolPool pool = pool();
    Lease lease = pool.acquire(key("k"), WAIT);
    clock.advance(Duration.ofSeconds(3));
    lease.release();
    Lease again = pool.acquire(key("k"), WAIT);
    clock.advance(Duration.ofSeconds(1));
    again.release();

    Counters totals = pool.stats().totals();
    assertThat(totals.latencyCount()).isEqualTo(2);
    assertThat(totals.latencySum()).isEqualTo(Duration.ofSeconds(4));
    assertThat(totals.meanLatency()).isEqualTo(Duration.ofSeconds(2));
  }

  @Test
  void onlyTheFirstOfReleaseRetireAndCloseCounts() {
    ToolPool pool = pool();
    ToolKey key = key("k");
    Lease lease = pool.acquire(key, WAIT);
    lease.release();
    lease.release();
    lease.retire(RetirementReason.CRASH, "too late");
    lease.close();

    KeyStats stats = pool.stats().key(key.fingerprint()).orElseThrow();
    assertThat(stats.idle()).isEqualTo(1);
    assertThat(stats.counters().retiredTotal()).isZero();
    assertThat(stats.counters().latencyCount()).isEqualTo(1);

    try (Lease closed = pool.acquire(key, WAIT)) {
      assertThat(closed.warm()).isTrue();
    }
    assertThat(pool.stats().key(key.fingerprint()).orElseThrow().idle()).isEqualTo(1);
  }

  @Test
  void aRetiredProcessEndsAndItsDirectoryIsDeleted() {
    ToolPool pool = pool(deterministic(clock, root, factory).shutdownGrace(Duration.ofSeconds(2)));
    ToolKey key = key("k");

    Lease crashed = pool.acquire(key, WAIT);
    Path crashedDirectory = crashed.processDirectory();
    crashed.retire(RetirementReason.CRASH, "it wrote garbage");
    assertThat(factory.last().howItEnded()).isEqualTo("kill");
    assertThat(crashedDirectory).doesNotExist();

    Lease tooMany = pool.acquire(key, WAIT);
    assertThat(tooMany.warm()).isFalse();
    tooMany.retire(RetirementReason.MAX_REQUESTS, "");
    assertThat(factory.last().howItEnded()).isEqualTo("shutdown 2000ms");

    Counters counters = pool.stats().key(key.fingerprint()).orElseThrow().counters();
    assertThat(counters.retired(RetirementReason.CRASH)).isEqualTo(1);
    assertThat(counters.retired(RetirementReason.MAX_REQUESTS)).isEqualTo(1);
    assertThat(counters.spawns()).isEqualTo(2);
    assertThat(pool.stats().alive()).isZero();
  }

  @Test
  void aFailedStartFreesItsSlotAndReachesTheCaller() {
    ToolPool pool =
        pool(
            deterministic(clock, root, factory)
                .defaultLimits(limits().maxProcessesPerKey(1).build()));
    ToolKey key = key("k");
    factory.failWith(
        k ->
            new ToolProcessException(
                ToolProcessException.Kind.START_FAILED, "no such file: bin/java"));

    assertThatThrownBy(() -> pool.acquire(key, Duration.ZERO))
        .isInstanceOf(ToolProcessException.class)
        .hasMessageContaining("no such file");
    assertThat(root.resolve(key.shortFingerprint() + "-1")).doesNotExist();
    KeyStats stats = pool.stats().key(key.fingerprint()).orElseThrow();
    assertThat(stats.counters().startFailures()).isEqualTo(1);
    assertThat(stats.counters().spawns()).isZero();
    assertThat(stats.alive()).isZero();

    factory.failWith(k -> null);
    Lease lease = pool.acquire(key, Duration.ZERO);
    assertThat(lease.processDirectory()).isEqualTo(root.resolve(key.shortFingerprint() + "-2"));
    lease.release();
  }

  @Test
  void aDirectoryThatCannotBeMadeIsAnInternalError() throws IOException {
    Path file = Files.writeString(root.resolve("file"), "not a directory");
    ToolPool pool = pool(deterministic(clock, file.resolve("below"), factory));

    assertThatThrownBy(() -> pool.acquire(key("k"), WAIT))
        .isInstanceOfSatisfying(
            HearthException.class, e -> assertThat(e.code()).isEqualTo(StatusCode.INTERNAL))
        .hasMessageContaining("cannot make the directory");
    assertThat(factory.started()).isEmpty();
    assertThat(pool.stats().alive()).isZero();
  }

  @Test
  void buildDeletesProcessDirectoriesAnEarlierPoolLeftAndNothingElse() throws IOException {
    Path leftover = root.resolve("0123456789ab-7");
    Files.createDirectories(leftover.resolve("sub"));
    Files.writeString(leftover.resolve("sub/out.jar"), "old");
    leftover.resolve("sub").toFile().setWritable(false);
    Path unrelated = Files.writeString(root.resolve("notes.txt"), "keep");

    pool();

    assertThat(leftover).doesNotExist();
    assertThat(unrelated).exists();
  }

  @Test
  void closeShutsDownEveryProcessAndRefusesNewAcquires() {
    ToolPool pool = pool();
    Lease busy = pool.acquire(key("a"), WAIT);
    pool.acquire(key("b"), WAIT).release();
    Path busyDirectory = busy.processDirectory();

    pool.close();

    assertThat(factory.started())
        .allSatisfy(p -> assertThat(p.howItEnded()).startsWith("shutdown"));
    assertThat(busyDirectory).doesNotExist();
    assertThat(pool.stats().totals().retired(RetirementReason.SHUTDOWN)).isEqualTo(2);
    assertThat(pool.idleByClientKey()).isEmpty();
    assertThatThrownBy(() -> pool.acquire(key("a"), WAIT))
        .isInstanceOfSatisfying(
            HearthException.class, e -> assertThat(e.code()).isEqualTo(StatusCode.UNAVAILABLE));
    busy.release();
    pool.close();
    assertThat(pool.stats().alive()).isZero();
  }

  @Test
  void closeWaitsForAStartUnderWayAndEndsWhatItStarted() {
    ToolPool pool =
        pool(
            deterministic(clock, root, factory)
                .defaultLimits(limits().maxProcessesPerKey(1).build()));
    factory.closeGate();
    CompletableFuture<Lease> acquiring =
        CompletableFuture.supplyAsync(() -> pool.acquire(key("k"), WAIT));
    await().until(() -> factory.waitingAtGate() == 1);
    // The start runs without the pool's lock.
    assertThat(pool.stats().key(key("k").fingerprint()).orElseThrow().starting()).isEqualTo(1);
    assertThat(pool.idleByClientKey()).isEmpty();

    CompletableFuture<Void> closing = CompletableFuture.runAsync(pool::close);
    // With the only slot starting, another acquire fails for want of room until the pool closes.
    await().until(() -> acquireFailure(pool, key("k")) == StatusCode.UNAVAILABLE);
    assertThat(closing).isNotDone();
    factory.openGate();

    closing.join();
    assertThat(acquiring)
        .failsWithin(WAIT)
        .withThrowableOfType(Exception.class)
        .havingCause()
        .isInstanceOfSatisfying(
            HearthException.class, e -> assertThat(e.code()).isEqualTo(StatusCode.UNAVAILABLE));
    assertThat(factory.last().howItEnded()).startsWith("shutdown");
    assertThat(pool.stats().totals().retired(RetirementReason.SHUTDOWN)).isEqualTo(1);
  }

  private static StatusCode acquireFailure(ToolPool pool, ToolKey key) {
    try {
      pool.acquire(key, Duration.ZERO).release();
      return StatusCode.OK;
    } catch (HearthException e) {
      return e.code();
    }
  }

  @Test
  void aOneShotLeaseHasNoProcess() {
    Lease lease = Lease.oneShot(key("k"));
    assertThat(lease.oneShot()).isTrue();
    assertThat(lease.warm()).isFalse();
    assertThat(lease.requestNumber()).isZero();
    assertThatThrownBy(lease::process)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("ordinary process");
    assertThatThrownBy(lease::processDirectory).isInstanceOf(IllegalStateException.class);
    lease.release();
    lease.retire(RetirementReason.CRASH, "");
  }

  @Test
  void statsListEachProcess() {
    ToolPool pool = pool();
    ToolKey key = key("k");
    Lease first = pool.acquire(key, WAIT);
    clock.advance(Duration.ofSeconds(5));
    Lease second = pool.acquire(key, WAIT);
    ((FakeToolProcess) first.process()).setResidentBytes(300 << 20);
    first.process().send(WorkRequest.getDefaultInstance()).join();
    first.release();

    KeyStats stats = pool.stats().key(key.fingerprint()).orElseThrow();
    assertThat(stats.clientKey()).isEqualTo("k");
    assertThat(stats.tool()).isEqualTo("javac");
    assertThat(stats.fingerprint()).isEqualTo(key.fingerprint());
    assertThat(stats.protocol()).isEqualTo(ToolProtocol.PROTO);
    assertThat(stats.multiplex()).isFalse();
    assertThat(stats.limits()).isEqualTo(PoolLimits.DEFAULTS);
    assertThat(stats.idle()).isEqualTo(1);
    assertThat(stats.busy()).isEqualTo(1);
    assertThat(stats.maxAlive()).isEqualTo(2);
    assertThat(stats.processes()).hasSize(2);
    ProcessStats idle = stats.processes().get(0);
    assertThat(idle.pid()).isEqualTo(first.process().pid());
    assertThat(idle.state()).isEqualTo(ProcessState.IDLE);
    assertThat(idle.requests()).isEqualTo(1);
    assertThat(idle.residentBytes()).hasValue(300 << 20);
    assertThat(idle.started()).isEqualTo(FakeClock.DEFAULT_START);
    assertThat(idle.lastUsed()).isEqualTo(FakeClock.DEFAULT_START.plusSeconds(5));
    assertThat(idle.retiringFor()).isEmpty();
    ProcessStats busy = stats.processes().get(1);
    assertThat(busy.state()).isEqualTo(ProcessState.BUSY);
    assertThat(busy.inFlight()).isEqualTo(1);
    assertThat(busy.directory()).isEqualTo(second.processDirectory());

    PoolStats all = pool.stats();
    assertThat(all.alive()).isEqualTo(2);
    assertThat(all.maxAlive()).isEqualTo(2);
    assertThat(all.maxProcesses()).isEqualTo(2 * PoolLimits.DEFAULT_MAX_PROCESSES_PER_KEY);
    assertThat(all.takenAt()).isEqualTo(clock.instant());
    second.release();
  }

  @Test
  void eachKeyGetsTheLimitsTheFunctionGivesIt() {
    PoolLimits small = limits().maxProcessesPerKey(1).build();
    ToolPool pool =
        pool(
            deterministic(clock, root, factory)
                .limits(key -> key.clientKey().equals("small") ? small : null));

    Lease small1 = pool.acquire(key("small"), WAIT);
    assertThatThrownBy(() -> pool.acquire(key("small"), Duration.ZERO))
        .isInstanceOfSatisfying(
            HearthException.class,
            e -> assertThat(e.code()).isEqualTo(StatusCode.RESOURCE_EXHAUSTED));
    Lease big1 = pool.acquire(key("big"), WAIT);
    Lease big2 = pool.acquire(key("big"), WAIT);

    assertThat(pool.stats().key(key("small").fingerprint()).orElseThrow().limits())
        .isEqualTo(small);
    assertThat(pool.stats().key(key("big").fingerprint()).orElseThrow().limits())
        .isEqualTo(PoolLimits.DEFAULTS);
    small1.release();
    big1.release();
    big2.release();
  }

  @Test
  void theIdleMapCountsProcessesThatCanTakeARequestAndListenersHearOfChanges() {
    ToolPool pool = pool();
    AtomicInteger calls = new AtomicInteger();
    pool.addIdleListener(calls::incrementAndGet);
    pool.addIdleListener(
        () -> {
          throw new IllegalStateException("a broken listener does not stop the others");
        });

    Lease a = pool.acquire(key("a"), WAIT);
    ToolKey sameClientKey =
        new ToolKey(
            "a",
            "javac",
            ToolPoolTesting.JAVAC,
            Map.of(),
            ToolProtocol.JSON,
            false,
            false,
            key("a").toolDigests());
    Lease a2 = pool.acquire(sameClientKey, WAIT);
    assertThat(pool.idleByClientKey()).isEmpty();
    assertThat(calls.get()).isPositive();

    int before = calls.get();
    a.release();
    assertThat(calls.get()).isGreaterThan(before);
    assertThat(pool.idleByClientKey()).isEqualTo(Map.of("a", 1));

    // Another key with the same client key adds to the same entry.
    a2.release();
    Lease m = pool.acquire(multiplexKey("m"), WAIT);
    assertThat(pool.idleByClientKey()).isEqualTo(Map.of("m", 1, "a", 2));

    before = calls.get();
    m.retire(RetirementReason.CANCELLED, "the action was cancelled");
    assertThat(calls.get()).isGreaterThan(before);
    assertThat(pool.idleByClientKey()).isEqualTo(Map.of("a", 2));
  }

  @Test
  void theBuilderAndTheLimitsRejectBadValues() {
    assertThatThrownBy(() -> ToolPool.newBuilder().processFactory(factory).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("directory");
    assertThatThrownBy(() -> ToolPool.newBuilder().directory(root).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("process factory");
    assertThatThrownBy(() -> ToolPool.newBuilder().maxProcesses(0))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> limits().maxProcessesPerKey(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxProcessesPerKey must be at least 1");
    assertThatThrownBy(() -> limits().idleTimeout(Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> limits().memoryLimitBytes(-1))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(PoolLimits.DEFAULTS.toBuilder().build()).isEqualTo(PoolLimits.DEFAULTS);
    assertThat(PoolLimits.DEFAULTS.idleTimeout()).isEqualTo(Duration.ofMinutes(5));
    assertThat(PoolLimits.DEFAULTS.atCapacity()).isEqualTo(PoolLimits.AtCapacity.WAIT);
    ToolPool pool = pool();
    assertThatThrownBy(() -> pool.acquire(key("k"), Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
