package build.hearth.core.persistent;

import static build.hearth.core.persistent.ToolPoolTesting.key;
import static build.hearth.core.persistent.ToolPoolTesting.limits;
import static build.hearth.core.persistent.ToolPoolTesting.multiplexKey;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import build.hearth.api.PoolLimits;
import build.hearth.api.PoolStats;
import build.hearth.api.PoolStats.Counters;
import build.hearth.api.RetirementReason;
import build.hearth.proto.worker.WorkRequest;
import build.hearth.testing.FakeClock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Many threads acquire, use, release and retire processes of several keys at once, under a
 * pool-wide cap smaller than the sum of the per-key caps, while the clock moves and idle sweeps
 * run, and retired processes end on the pool's own threads. Each thread's decisions come from
 * {@code new Random(42 + thread)}; thread timing does not, so each run interleaves differently. The
 * fake factory counts the processes really running, from start to shutdown, and no cap may ever be
 * exceeded.
 */
class ToolPoolStressTest {
  private static final int THREADS = 8;
  private static final int OPERATIONS = 400;
  private static final int MAX_PROCESSES = 5;
  private static final int PER_KEY = 3;

  @TempDir Path root;
  private final FakeClock clock = new FakeClock();
  private final FakeToolProcess.Factory factory = new FakeToolProcess.Factory();
  private final AtomicLong leases = new AtomicLong();
  private final AtomicLong oneShots = new AtomicLong();

  @Test
  void noCapIsEverExceededAndEveryProcessEnds() throws Exception {
    ToolKey oneShotKey = key("one-shot");
    ToolKey multiplex = multiplexKey("multiplex");
    List<ToolKey> keys = List.of(key("a"), key("b"), key("c"), key("d"), oneShotKey, multiplex);
    PoolLimits common =
        limits()
            .maxProcessesPerKey(PER_KEY)
            .maxRequestsPerProcess(6)
            .memoryLimitBytes(1000)
            .idleTimeout(Duration.ofSeconds(30))
            .maxInFlightPerMultiplexProcess(3)
            .build();
    PoolLimits oneShotLimits =
        common.toBuilder().maxProcessesPerKey(1).atCapacity(PoolLimits.AtCapacity.ONE_SHOT).build();
    ToolPool pool =
        ToolPool.newBuilder()
            .directory(root)
            .processFactory(factory)
            .clock(clock)
            .sweepInterval(Duration.ZERO)
            .defaultLimits(common)
            .limits(key -> key.equals(oneShotKey) ? oneShotLimits : null)
            .maxProcesses(MAX_PROCESSES)
            .shutdownGrace(Duration.ofSeconds(1))
            .build();

    ExecutorService threads = Executors.newFixedThreadPool(THREADS);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int thread = 0; thread < THREADS; thread++) {
        Random random = new Random(42 + thread);
        done.add(threads.submit(() -> work(pool, keys, random)));
      }
      for (Future<?> future : done) {
        future.get(2, TimeUnit.MINUTES);
      }
    } finally {
      threads.shutdownNow();
    }

    pool.checkInvariants();
    for (ToolKey key : keys) {
      int cap = key.equals(oneShotKey) ? 1 : PER_KEY;
      assertThat(factory.maxRunning(key))
          .as("most processes of %s at once", key)
          .isLessThanOrEqualTo(cap);
    }
    assertThat(factory.maxRunning()).isLessThanOrEqualTo(MAX_PROCESSES);
    PoolStats stats = pool.stats();
    assertThat(stats.maxAlive()).isLessThanOrEqualTo(MAX_PROCESSES);
    Counters totals = stats.totals();
    assertThat(totals.requests()).isEqualTo(leases.get());
    assertThat(totals.requests()).isEqualTo(totals.warmRequests() + totals.coldRequests());
    assertThat(totals.oneShotRuns()).isEqualTo(oneShots.get());
    assertThat(totals.spawns()).isEqualTo(factory.started().size());
    assertThat(totals.evictions()).as("the pool-wide cap made room").isPositive();
    assertThat(totals.retired(RetirementReason.MAX_REQUESTS)).isPositive();
    assertThat(totals.retired(RetirementReason.MEMORY)).isPositive();
    assertThat(totals.retired(RetirementReason.CRASH)).isPositive();
    assertThat(totals.waitsAtCap()).as("acquires waited at a cap").isPositive();
    assertThat(totals.oneShotRuns()).isPositive();

    pool.close();

    pool.checkInvariants();
    assertThat(factory.running()).isZero();
    assertThat(pool.stats().alive()).isZero();
    assertThat(pool.stats().totals().retiredTotal()).isEqualTo(totals.spawns());
    try (Stream<Path> left = Files.list(root)) {
      assertThat(left).as("process directories left behind").isEmpty();
    }
  }

  private void work(ToolPool pool, List<ToolKey> keys, Random random) {
    for (int i = 0; i < OPERATIONS; i++) {
      ToolKey key = keys.get(random.nextInt(keys.size()));
      Lease lease = pool.acquire(key, Duration.ofSeconds(60));
      if (lease.oneShot()) {
        oneShots.incrementAndGet();
        continue;
      }
      leases.incrementAndGet();
      FakeToolProcess process = (FakeToolProcess) lease.process();
      if (!key.multiplex()) {
        // Only a lease may end a singleplex process that is busy, so it must run.
        assertThat(process.isAlive()).as("a leased singleplex process runs").isTrue();
      }
      try {
        process.send(WorkRequest.newBuilder().setRequestId(lease.requestId()).build()).join();
      } catch (CompletionException e) {
        // A multiplex sibling's lease retired the process.
      }
      int outcome = random.nextInt(100);
      if (outcome < 4) {
        process.die();
        lease.release();
      } else if (outcome < 8) {
        process.setResidentBytes(2000);
        lease.release();
      } else if (outcome < 12) {
        lease.retire(RetirementReason.CRASH, "the stress test says so");
      } else {
        lease.release();
      }
      if (random.nextInt(50) == 0) {
        clock.advance(Duration.ofSeconds(10));
        pool.retireIdle();
      }
      if (i % 20 == 0) {
        pool.checkInvariants();
      }
    }
  }

  @Test
  void thePoolsOwnThreadsSweepIdleProcessesAndEndThem() {
    ToolPool pool =
        ToolPool.newBuilder()
            .directory(root)
            .processFactory(factory)
            .clock(clock)
            .defaultLimits(limits().idleTimeout(Duration.ofSeconds(1)).build())
            .build();
    Lease lease = pool.acquire(key("k"), Duration.ofSeconds(1));
    lease.release();

    clock.advance(Duration.ofSeconds(2));

    await().until(() -> !lease.process().isAlive());
    await().until(() -> pool.stats().alive() == 0);
    assertThat(pool.stats().totals().retired(RetirementReason.IDLE)).isEqualTo(1);
    assertThat(lease.processDirectory()).doesNotExist();
    pool.close();
  }
}
