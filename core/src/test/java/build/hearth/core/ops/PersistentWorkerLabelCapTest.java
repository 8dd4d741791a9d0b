package build.hearth.core.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import build.hearth.api.PoolLimits;
import build.hearth.api.PoolStats;
import build.hearth.api.PoolStats.Counters;
import build.hearth.api.PoolStats.KeyStats;
import build.hearth.api.PoolStats.ProcessState;
import build.hearth.api.PoolStats.ProcessStats;
import build.hearth.api.ToolProtocol;
import build.hearth.testing.FakeClock;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Worker names and tool names are chosen by workers and clients: however many there are, the
 * persistent-worker series stay within {@link PersistentWorkerCollector#MAX_LABEL_SETS} label sets
 * plus the one that adds up the rest, and nothing is lost from the totals.
 */
class PersistentWorkerLabelCapTest {
  private static final int WORKERS = 10_000;

  private final FakeClock clock = new FakeClock();

  @Test
  void tenThousandWorkersAndToolsMakeAtMostTheCapOfSeries() {
    WorkerReports reports = new WorkerReports(clock);
    Instant now = clock.instant();
    for (int i = 0; i < WORKERS; i++) {
      reports.update(
          new WorkerReports.Report(
              "worker-" + i, "default", true, now, Optional.of(pool(now, "tool-" + i))));
    }
    Metrics metrics = Metrics.newBuilder().workerReports(reports).build();

    Exposition exposition = Exposition.parse(metrics.scrape());

    var spawns = exposition.samples("persistent_worker_spawns_total");
    Set<String> workers =
        spawns.stream().map(sample -> sample.labels().get("worker")).collect(Collectors.toSet());
    Set<String> tools =
        spawns.stream().map(sample -> sample.labels().get("tool")).collect(Collectors.toSet());
    assertThat(spawns).hasSize(PersistentWorkerCollector.MAX_LABEL_SETS + 1);
    assertThat(workers).hasSize(PersistentWorkerCollector.MAX_LABEL_SETS + 1).contains("other");
    assertThat(tools).hasSize(PersistentWorkerCollector.MAX_LABEL_SETS + 1).contains("other");
    // Every spawn is still counted, the folded ones under "other".
    assertThat(spawns.stream().mapToDouble(sample -> sample.value()).sum())
        .isEqualTo(WORKERS * 2.0);
    assertThat(
            exposition.value(
                "persistent_worker_spawns_total",
                "worker",
                "other",
                "key",
                "other",
                "tool",
                "other"))
        .isEqualTo((WORKERS - PersistentWorkerCollector.MAX_LABEL_SETS) * 2.0);
    // Memory is reported per process only where the worker is named.
    assertThat(exposition.samples("persistent_worker_resident_bytes"))
        .hasSize(PersistentWorkerCollector.MAX_LABEL_SETS)
        .noneMatch(sample -> sample.labels().get("worker").equals("other"));
    assertThat(exposition.samples("persistent_worker_request_duration_seconds_count"))
        .hasSize(PersistentWorkerCollector.MAX_LABEL_SETS + 1);
  }

  @Test
  void theCapIsConfigurable() {
    WorkerReports reports = new WorkerReports(clock);
    Instant now = clock.instant();
    for (int i = 0; i < 20; i++) {
      reports.update(
          new WorkerReports.Report(
              "worker-" + i, "default", true, now, Optional.of(pool(now, "tool-" + i))));
    }
    Metrics metrics =
        Metrics.newBuilder().workerReports(reports).maxPersistentWorkerSeries(3).build();

    Exposition exposition = Exposition.parse(metrics.scrape());

    var spawns = exposition.samples("persistent_worker_spawns_total");
    assertThat(spawns).hasSize(3 + 1);
    assertThat(spawns.stream().mapToDouble(sample -> sample.value()).sum()).isEqualTo(20 * 2.0);
    assertThat(metrics.scrape()).contains("At most 3 worker/key/tool label sets");
    assertThatThrownBy(() -> Metrics.newBuilder().maxPersistentWorkerSeries(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxPersistentWorkerSeries");
  }

  @Test
  void aWorkerThatNamesEverythingOtherCannotCollideWithTheFoldedRow() {
    WorkerReports reports = new WorkerReports(clock);
    Instant now = clock.instant();
    for (int i = 0; i < PersistentWorkerCollector.MAX_LABEL_SETS + 3; i++) {
      reports.update(
          new WorkerReports.Report("w" + i, "default", true, now, Optional.of(pool(now, "t" + i))));
    }
    reports.update(
        new WorkerReports.Report(
            "other", "default", true, now, Optional.of(pool(now, "other", "other"))));
    Metrics metrics = Metrics.newBuilder().workerReports(reports).build();

    Exposition exposition = Exposition.parse(metrics.scrape());

    assertThat(
            exposition.value(
                "persistent_worker_spawns_total",
                "worker",
                "other",
                "key",
                "other",
                "tool",
                "other"))
        .isEqualTo(4 * 2.0);
  }

  private static PoolStats pool(Instant now, String tool) {
    return pool(now, tool, tool);
  }

  private static PoolStats pool(Instant now, String clientKey, String tool) {
    Counters counters = new Counters(2, 0, 1, 1, 0, 0, 0, 0, 0, Map.of(), 1, Duration.ofMillis(5));
    ProcessStats process =
        new ProcessStats(
            42,
            ProcessState.IDLE,
            0,
            1,
            OptionalLong.of(1 << 20),
            now,
            now,
            Path.of("p42"),
            Optional.empty());
    KeyStats key =
        new KeyStats(
            clientKey,
            tool,
            "fingerprint",
            ToolProtocol.PROTO,
            false,
            PoolLimits.DEFAULTS,
            0,
            1,
            0,
            0,
            0,
            1,
            counters,
            List.of(process));
    return new PoolStats(now, 1, 1, 1, 0, counters, List.of(key));
  }
}
