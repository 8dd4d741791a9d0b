package build.hearth.core.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
import build.hearth.core.persistent.FakeToolProcess;
import build.hearth.core.persistent.Lease;
import build.hearth.core.persistent.ToolKey;
import build.hearth.core.persistent.ToolPool;
import build.hearth.testing.FakeClock;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PersistentWorkerMetricsTest {
  private static final String DURATION = "persistent_worker_request_duration_seconds";

  @TempDir Path directory;

  private final FakeClock clock = new FakeClock();

  private static ToolKey javacKey() {
    return new ToolKey(
        "javac-key",
        "javac",
        List.of("bin/java", "-jar", "JavaBuilder_deploy.jar", "--persistent_worker"),
        Map.of(),
        ToolProtocol.PROTO,
        false,
        false,
        new TreeMap<>(Map.of("JavaBuilder_deploy.jar", "a".repeat(64) + "/1234")));
  }

  private static Exposition scrape(Metrics metrics) {
    return Exposition.parse(metrics.scrape());
  }

  @Test
  void seriesOfARealPool() {
    FakeToolProcess.Factory processes = new FakeToolProcess.Factory();
    try (ToolPool pool =
        ToolPool.newBuilder()
            .directory(directory)
            .processFactory(processes)
            .clock(clock)
            .sweepInterval(Duration.ZERO)
            .retirementExecutor(Runnable::run)
            .defaultLimits(
                PoolLimits.newBuilder().maxProcessesPerKey(1).maxRequestsPerProcess(3).build())
            .build()) {
      WorkerReports reports = new WorkerReports(clock);
      reports.registerLive("local", "default", () -> Optional.of(pool.stats()));
      Metrics metrics = Metrics.newBuilder().workerReports(reports).build();
      ToolKey key = javacKey();

      Lease cold = pool.acquire(key, Duration.ZERO);
      clock.advance(Duration.ofMillis(30));
      cold.release();
      Lease warm = pool.acquire(key, Duration.ZERO);
      clock.advance(Duration.ofSeconds(2));
      warm.release();
      Lease third = pool.acquire(key, Duration.ZERO);
      // The key's one process is busy and may not have a sibling: the acquire waits at the cap.
      assertThatThrownBy(() -> pool.acquire(key, Duration.ZERO))
          .isInstanceOfSatisfying(
              HearthException.class,
              e -> assertThat(e.code()).isEqualTo(StatusCode.RESOURCE_EXHAUSTED));
      Exposition busy = scrape(metrics);
      assertThat(processes(busy, "busy")).isEqualTo(1);
      assertThat(processes(busy, "idle")).isZero();
      clock.advance(Duration.ofSeconds(400));
      // Its third request was its last: it retires for max_requests.
      third.release();
      Lease fresh = pool.acquire(key, Duration.ZERO);
      processes.started().get(1).setResidentBytes(123_456);
      fresh.release();

      Exposition exposition = scrape(metrics);
      assertThat(exposition.types)
          .containsEntry("persistent_worker_processes", "gauge")
          .containsEntry("persistent_worker_spawns_total", "counter")
          .containsEntry(DURATION, "histogram");
      assertThat(processes(exposition, "idle")).isEqualTo(1);
      assertThat(processes(exposition, "busy")).isZero();
      assertThat(processes(exposition, "starting")).isZero();
      assertThat(processes(exposition, "retiring")).isZero();
      assertThat(exposition.value("persistent_worker_spawns_total", labels())).isEqualTo(2);
      assertThat(exposition.value("persistent_worker_requests_total", labels("start", "cold")))
          .isEqualTo(2);
      assertThat(exposition.value("persistent_worker_requests_total", labels("start", "warm")))
          .isEqualTo(2);
      for (RetirementReason reason : RetirementReason.values()) {
        assertThat(
                exposition.value(
                    "persistent_worker_retirements_total", labels("reason", reason.label())))
            .as(reason.label())
            .isEqualTo(reason == RetirementReason.MAX_REQUESTS ? 1 : 0);
      }
      assertThat(exposition.value("persistent_worker_waits_at_cap_total", labels())).isEqualTo(1);
      assertThat(exposition.value("persistent_worker_idle_restarts_total", labels())).isZero();
      long pid = processes.started().get(1).pid();
      assertThat(
              exposition.value(
                  "persistent_worker_resident_bytes", labels("pid", Long.toString(pid))))
          .isEqualTo(123_456);
      assertThat(exposition.samples("persistent_worker_resident_bytes")).hasSize(1);

      // Held 30 ms, 2 s, 400 s and 0 s.
      assertThat(exposition.value(DURATION + "_bucket", labels("le", "0.01"))).isEqualTo(1);
      assertThat(exposition.value(DURATION + "_bucket", labels("le", "0.05"))).isEqualTo(2);
      assertThat(exposition.value(DURATION + "_bucket", labels("le", "1.0"))).isEqualTo(2);
      assertThat(exposition.value(DURATION + "_bucket", labels("le", "2.5"))).isEqualTo(3);
      assertThat(exposition.value(DURATION + "_bucket", labels("le", "300.0"))).isEqualTo(3);
      assertThat(exposition.value(DURATION + "_bucket", labels("le", "+Inf"))).isEqualTo(4);
      assertThat(exposition.value(DURATION + "_count", labels())).isEqualTo(4);
      assertThat(exposition.value(DURATION + "_sum", labels())).isEqualTo(402.03);
    }
  }

  private static double processes(Exposition exposition, String state) {
    return exposition.value("persistent_worker_processes", labels("state", state));
  }

  /** The labels of the test key on worker "local", plus {@code more}. */
  private static Map<String, String> labels(String... more) {
    Map<String, String> labels = new TreeMap<>();
    labels.put("worker", "local");
    labels.put("key", "javac-key");
    labels.put("tool", "javac");
    for (int i = 0; i < more.length; i += 2) {
      labels.put(more[i], more[i + 1]);
    }
    return labels;
  }

  @Test
  void rowsOfOneClientKeyAreAddedUpAndAnUnknownDistributionKeepsOnlyItsTotal() {
    Instant now = clock.instant();
    List<Long> buckets = new ArrayList<>(Collections.nCopies(12, 0L));
    buckets.set(0, 2L);
    Counters withBuckets =
        new Counters(
            3,
            0,
            5,
            4,
            1,
            2,
            0,
            0,
            1,
            Map.of(RetirementReason.IDLE, 1L),
            2,
            Duration.ofMillis(8),
            buckets);
    Counters withoutBuckets =
        new Counters(
            1,
            0,
            2,
            1,
            1,
            0,
            0,
            0,
            0,
            Map.of(RetirementReason.TOOL_CHANGE, 1L),
            2,
            Duration.ofSeconds(3));
    ProcessStats idle =
        new ProcessStats(
            77,
            ProcessState.IDLE,
            0,
            4,
            OptionalLong.of(1000),
            now,
            now,
            Path.of("p77"),
            Optional.empty());
    ProcessStats starting =
        new ProcessStats(
            0,
            ProcessState.STARTING,
            1,
            0,
            OptionalLong.empty(),
            now,
            now,
            Path.of("p0"),
            Optional.empty());
    PoolStats pool =
        new PoolStats(
            now,
            8,
            3,
            3,
            0,
            withBuckets,
            List.of(
                row("new-fingerprint", 1, 1, 0, withBuckets, List.of(idle, starting)),
                row("old-fingerprint", 0, 0, 1, withoutBuckets, List.of())));
    WorkerReports reports = new WorkerReports(clock);
    reports.update(new WorkerReports.Report("remote-1", "default", true, now, Optional.of(pool)));
    reports.update(new WorkerReports.Report("no-pool", "default", true, now, Optional.empty()));
    Metrics metrics = Metrics.newBuilder().workerReports(reports).build();

    Exposition exposition = scrape(metrics);

    Map<String, String> labels = Map.of("worker", "remote-1", "key", "javac", "tool", "javac");
    assertThat(exposition.value("persistent_worker_spawns_total", labels)).isEqualTo(4);
    assertThat(exposition.value("persistent_worker_processes", with(labels, "state", "idle")))
        .isEqualTo(1);
    assertThat(exposition.value("persistent_worker_processes", with(labels, "state", "starting")))
        .isEqualTo(1);
    assertThat(exposition.value("persistent_worker_processes", with(labels, "state", "retiring")))
        .isEqualTo(1);
    assertThat(
            exposition.value(
                "persistent_worker_retirements_total", with(labels, "reason", "tool_change")))
        .isEqualTo(1);
    assertThat(
            exposition.value("persistent_worker_retirements_total", with(labels, "reason", "idle")))
        .isEqualTo(1);
    assertThat(exposition.value("persistent_worker_requests_total", with(labels, "start", "warm")))
        .isEqualTo(5);
    assertThat(exposition.value("persistent_worker_waits_at_cap_total", labels)).isEqualTo(2);
    assertThat(exposition.value("persistent_worker_idle_restarts_total", labels)).isEqualTo(1);
    // One row does not know its distribution, so only the +Inf bucket is true for the sum.
    assertThat(exposition.samples(DURATION + "_bucket"))
        .singleElement()
        .satisfies(bucket -> assertThat(bucket.labels()).containsEntry("le", "+Inf"));
    assertThat(exposition.value(DURATION + "_count", labels)).isEqualTo(4);
    assertThat(exposition.value(DURATION + "_sum", labels)).isEqualTo(3.008);
    // The process still starting has no pid and no memory yet.
    assertThat(exposition.samples("persistent_worker_resident_bytes"))
        .singleElement()
        .satisfies(sample -> assertThat(sample.labels()).containsEntry("pid", "77"));
    assertThat(exposition.samples.stream().map(sample -> sample.labels().get("worker")))
        .doesNotContain("no-pool");
  }

  private static KeyStats row(
      String fingerprint,
      int starting,
      int idle,
      int retiring,
      Counters counters,
      List<ProcessStats> processes) {
    return new KeyStats(
        "javac",
        "javac",
        fingerprint,
        ToolProtocol.PROTO,
        false,
        PoolLimits.DEFAULTS,
        starting,
        idle,
        0,
        retiring,
        0,
        1,
        counters,
        processes);
  }

  private static Map<String, String> with(Map<String, String> labels, String name, String value) {
    Map<String, String> more = new TreeMap<>(labels);
    more.put(name, value);
    return more;
  }

  @Test
  void latencyBucketsMustMatchTheBounds() {
    assertThatThrownBy(
            () ->
                new Counters(
                    0, 0, 0, 0, 0, 0, 0, 0, 0, Map.of(), 0, Duration.ZERO, List.of(1L, 2L)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("LATENCY_BUCKET_BOUNDS");
  }
}
