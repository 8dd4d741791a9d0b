package build.hearth.core.persistent;

import static build.hearth.core.persistent.ToolPoolTesting.deterministic;
import static build.hearth.core.persistent.ToolPoolTesting.key;
import static build.hearth.core.persistent.ToolPoolTesting.limits;
import static build.hearth.core.persistent.ToolPoolTesting.multiplexKey;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import build.hearth.api.HearthException;
import build.hearth.api.PoolLimits;
import build.hearth.api.PoolStats;
import build.hearth.api.PoolStats.Counters;
import build.hearth.api.PoolStats.KeyStats;
import build.hearth.api.PoolStats.ProcessState;
import build.hearth.api.RetirementReason;
import build.hearth.api.StatusCode;
import build.hearth.proto.worker.WorkRequest;
import build.hearth.testing.FakeClock;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** When processes retire: idleness, request counts, memory, tool changes, crashes; multiplex. */
class ToolPoolRetirementTest {
  private static final Duration LONG = Duration.ofMinutes(1);

  @TempDir Path root;
  private final FakeClock clock = new FakeClock();
  private final FakeToolProcess.Factory factory = new FakeToolProcess.Factory();
  private ToolPool pool;

  private ToolPool pool(PoolLimits limits) {
    pool = deterministic(clock, root, factory).defaultLimits(limits).build();
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

  private Counters counters(ToolKey key) {
    return pool.stats().key(key.fingerprint()).orElseThrow().counters();
  }

  @Test
  void theSweepRetiresExactlyTheProcessesIdleForLongerThanTheTimeout() {
    ToolPool pool = pool(limits().idleTimeout(Duration.ofMinutes(5)).build());
    ToolKey key = key("k");
    Lease first = pool.acquire(key, LONG);
    Lease second = pool.acquire(key, LONG);
    Lease third = pool.acquire(key, LONG);
    first.release();
    clock.advance(Duration.ofMinutes(2));
    second.release();
    clock.advance(Duration.ofMinutes(3));
    // first has been idle for exactly 5 minutes, second for 3; third is busy.
    assertThat(pool.retireIdle()).isZero();

    clock.advance(Duration.ofSeconds(1));
    assertThat(pool.retireIdle()).isEqualTo(1);
    assertThat(first.process().isAlive()).isFalse();
    assertThat(((FakeToolProcess) first.process()).howItEnded()).isEqualTo("shutdown 5000ms");
    assertThat(first.processDirectory()).doesNotExist();
    assertThat(second.process().isAlive()).isTrue();

    clock.advance(Duration.ofHours(1));
    assertThat(pool.retireIdle()).isEqualTo(1);
    assertThat(second.process().isAlive()).isFalse();
    assertThat(third.process().isAlive()).isTrue();
    assertThat(counters(key).retired(RetirementReason.IDLE)).isEqualTo(2);
    assertThat(counters(key).evictions()).isZero();
    third.release();
  }

  @Test
  void aZeroIdleTimeoutKeepsProcessesForever() {
    ToolPool pool = pool(limits().idleTimeout(Duration.ZERO).build());
    pool.acquire(key("k"), LONG).release();
    clock.advance(Duration.ofDays(30));
    assertThat(pool.retireIdle()).isZero();
    assertThat(pool.stats().key(key("k").fingerprint()).orElseThrow().idle()).isEqualTo(1);
  }

  @Test
  void theSweepRetiresAnIdleProcessThatEndedOnItsOwn() {
    ToolPool pool = pool(PoolLimits.DEFAULTS);
    Lease lease = pool.acquire(key("k"), LONG);
    lease.release();
    ((FakeToolProcess) lease.process()).die();

    assertThat(pool.retireIdle()).isEqualTo(1);
    assertThat(counters(key("k")).retired(RetirementReason.CRASH)).isEqualTo(1);
    assertThat(pool.acquire(key("k"), LONG).warm()).isFalse();
  }

  @Test
  void aProcessThatDiedDuringItsRequestRetiresOnRelease() {
    ToolPool pool = pool(PoolLimits.DEFAULTS);
    Lease lease = pool.acquire(key("k"), LONG);
    ((FakeToolProcess) lease.process()).die();

    lease.release();

    assertThat(counters(key("k")).retired(RetirementReason.CRASH)).isEqualTo(1);
    assertThat(((FakeToolProcess) lease.process()).howItEnded()).isEqualTo("kill");
    assertThat(pool.stats().alive()).isZero();
  }

  @Test
  void aProcessRetiresAfterItsMaximumNumberOfRequests() {
    ToolPool pool = pool(limits().maxRequestsPerProcess(3).build());
    ToolKey key = key("k");
    ToolProcess first = null;
    for (int i = 1; i <= 3; i++) {
      Lease lease = pool.acquire(key, LONG);
      assertThat(lease.requestNumber()).isEqualTo(i);
      first = lease.process();
      if (i == 3) {
        KeyStats stats = pool.stats().key(key.fingerprint()).orElseThrow();
        assertThat(stats.processes().get(0).state()).isEqualTo(ProcessState.DRAINING);
        assertThat(stats.processes().get(0).retiringFor()).hasValue(RetirementReason.MAX_REQUESTS);
      }
      lease.release();
    }

    assertThat(first.isAlive()).isFalse();
    assertThat(((FakeToolProcess) first).howItEnded()).startsWith("shutdown");
    assertThat(counters(key).retired(RetirementReason.MAX_REQUESTS)).isEqualTo(1);
    Lease fourth = pool.acquire(key, LONG);
    assertThat(fourth.warm()).isFalse();
    assertThat(fourth.process()).isNotSameAs(first);
    fourth.release();
  }

  @Test
  void aProcessOverTheMemoryLimitAfterARequestRetires() {
    ToolPool pool = pool(limits().memoryLimitBytes(1000).build());
    ToolKey key = key("k");
    Lease lease = pool.acquire(key, LONG);
    FakeToolProcess process = (FakeToolProcess) lease.process();
    process.setResidentBytes(1000);
    lease.release();
    assertThat(process.isAlive()).isTrue();
    assertThat(pool.stats().key(key.fingerprint()).orElseThrow().processes().get(0).residentBytes())
        .hasValue(1000);

    Lease again = pool.acquire(key, LONG);
    process.setResidentBytes(1001);
    again.release();

    assertThat(process.isAlive()).isFalse();
    assertThat(process.howItEnded()).startsWith("shutdown");
    assertThat(counters(key).retired(RetirementReason.MEMORY)).isEqualTo(1);
  }

  @Test
  void aChangedToolRetiresOldIdleProcessesAtOnceAndBusyOnesWhenReleased() {
    ToolPool pool = pool(PoolLimits.DEFAULTS);
    ToolKey v1 = key("k", false, "a");
    ToolKey v2 = key("k", false, "b");
    ToolKey unrelated = key("other", false, "a");
    Lease idle = pool.acquire(v1, LONG);
    Lease busy = pool.acquire(v1, LONG);
    Lease other = pool.acquire(unrelated, LONG);
    idle.release();
    other.release();

    Lease fresh = pool.acquire(v2, LONG);

    assertThat(fresh.warm()).isFalse();
    assertThat(idle.process().isAlive()).isFalse();
    assertThat(busy.process().isAlive()).isTrue();
    assertThat(other.process().isAlive()).isTrue();
    KeyStats old = pool.stats().key(v1.fingerprint()).orElseThrow();
    assertThat(old.processes())
        .singleElement()
        .satisfies(p -> assertThat(p.state()).isEqualTo(ProcessState.DRAINING));
    assertThat(pool.idleByClientKey()).isEqualTo(Map.of("other", 1));

    busy.release();
    assertThat(busy.process().isAlive()).isFalse();
    assertThat(counters(v1).retired(RetirementReason.TOOL_CHANGE)).isEqualTo(2);
    assertThat(counters(unrelated).retiredTotal()).isZero();
    fresh.release();
    assertThat(pool.acquire(v2, LONG).process()).isSameAs(fresh.process());
  }

  @Test
  void startsSoonAfterIdleRetirementsAreCounted() {
    ToolPool pool = pool(limits().idleTimeout(Duration.ofMinutes(5)).build());
    ToolKey key = key("k");
    pool.acquire(key, LONG).release();
    clock.advance(Duration.ofMinutes(6));
    pool.retireIdle();

    clock.advance(Duration.ofMinutes(1));
    pool.acquire(key, LONG).release();
    assertThat(counters(key).idleRestarts()).isEqualTo(1);

    clock.advance(Duration.ofMinutes(6));
    pool.retireIdle();
    clock.advance(Duration.ofMinutes(6));
    pool.acquire(key, LONG).release();
    assertThat(counters(key).idleRestarts()).isEqualTo(1);
    assertThat(counters(key).spawns()).isEqualTo(3);
  }

  @Test
  void keysLongUnusedAreForgottenButStayInTheTotals() {
    ToolPool pool = pool(limits().idleTimeout(Duration.ofMinutes(5)).build());
    pool.acquire(key("k"), LONG).release();
    clock.advance(Duration.ofMinutes(6));
    pool.retireIdle();
    assertThat(pool.stats().keys()).hasSize(1);

    clock.advance(Duration.ofHours(1));
    pool.retireIdle();
    assertThat(pool.stats().keys()).hasSize(1);
    clock.advance(Duration.ofSeconds(1));
    pool.retireIdle();

    assertThat(pool.stats().keys()).isEmpty();
    assertThat(pool.stats().totals().spawns()).isEqualTo(1);
    assertThat(pool.stats().totals().retired(RetirementReason.IDLE)).isEqualTo(1);
  }

  @Test
  void aMultiplexProcessServesUpToItsInFlightLimitBeforeAnotherStarts() {
    ToolPool pool = pool(limits().maxProcessesPerKey(2).maxInFlightPerMultiplexProcess(3).build());
    ToolKey key = multiplexKey("m");
    List<Lease> leases = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      leases.add(pool.acquire(key, LONG));
    }
    assertThat(leases).extracting(Lease::process).containsOnly(leases.get(0).process());
    assertThat(leases).extracting(Lease::requestId).containsExactly(1, 2, 3);
    assertThat(leases).extracting(Lease::warm).containsExactly(false, true, true);
    assertThat(pool.idleByClientKey()).isEmpty();

    leases.add(pool.acquire(key, LONG));
    assertThat(leases.get(3).process()).isNotSameAs(leases.get(0).process());
    assertThat(pool.idleByClientKey()).isEqualTo(Map.of("m", 1));
    leases.add(pool.acquire(key, LONG));
    leases.add(pool.acquire(key, LONG));
    assertThatThrownBy(() -> pool.acquire(key, Duration.ZERO))
        .isInstanceOfSatisfying(
            HearthException.class,
            e -> assertThat(e.code()).isEqualTo(StatusCode.RESOURCE_EXHAUSTED));
    assertThat(factory.started()).hasSize(2);

    leases.get(1).release();
    Lease replacement = pool.acquire(key, LONG);
    assertThat(replacement.process()).isSameAs(leases.get(0).process());
    assertThat(replacement.requestId()).isEqualTo(4);
    Set<Integer> idsInFlight = new HashSet<>();
    for (Lease lease : List.of(leases.get(0), leases.get(2), replacement)) {
      idsInFlight.add(lease.requestId());
    }
    assertThat(idsInFlight).hasSize(3).doesNotContain(0);
    KeyStats stats = pool.stats().key(key.fingerprint()).orElseThrow();
    assertThat(stats.multiplex()).isTrue();
    assertThat(stats.busy()).isEqualTo(2);
    assertThat(stats.processes())
        .extracting(PoolStats.ProcessStats::inFlight)
        .containsExactly(3, 3);
    replacement.release();
    leases.forEach(Lease::release);
  }

  @Test
  void aCrashOnAMultiplexProcessRetiresItForEveryRequest() {
    ToolPool pool = pool(limits().maxProcessesPerKey(1).build());
    ToolKey key = multiplexKey("m");
    Lease crashed = pool.acquire(key, LONG);
    Lease sibling = pool.acquire(key, LONG);

    crashed.retire(RetirementReason.CRASH, "it closed stdout");

    assertThat(crashed.process().isAlive()).isFalse();
    assertThat(sibling.process().send(WorkRequest.getDefaultInstance())).isCompletedExceptionally();
    Lease fresh = pool.acquire(key, Duration.ZERO);
    assertThat(fresh.process()).isNotSameAs(crashed.process());
    sibling.retire(RetirementReason.CRASH, "it closed stdout");
    fresh.release();
    assertThat(counters(key).retired(RetirementReason.CRASH)).isEqualTo(1);
  }

  @Test
  void aMultiplexProcessOverItsMemoryLimitTakesNoMoreRequestsAndRetiresWhenDone() {
    ToolPool pool = pool(limits().maxProcessesPerKey(2).memoryLimitBytes(1000).build());
    ToolKey key = multiplexKey("m");
    Lease first = pool.acquire(key, LONG);
    Lease second = pool.acquire(key, LONG);
    FakeToolProcess process = (FakeToolProcess) first.process();
    process.setResidentBytes(5000);

    first.release();
    assertThat(process.isAlive()).isTrue();
    Lease third = pool.acquire(key, LONG);
    assertThat(third.process()).isNotSameAs(process);

    second.release();
    assertThat(process.isAlive()).isFalse();
    assertThat(counters(key).retired(RetirementReason.MEMORY)).isEqualTo(1);
    third.release();
  }
}
