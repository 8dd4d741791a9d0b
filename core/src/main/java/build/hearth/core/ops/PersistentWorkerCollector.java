package build.hearth.core.ops;

import build.hearth.api.PoolStats;
import build.hearth.api.PoolStats.KeyStats;
import build.hearth.api.PoolStats.ProcessStats;
import build.hearth.api.RetirementReason;
import build.hearth.core.ops.Families.Counters;
import build.hearth.core.ops.Families.Gauges;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot.HistogramDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code persistent_worker_*} series, from one {@link WorkerReports#snapshot()} per scrape.
 *
 * <p>A series is labelled by worker, client key and tool. A pool can hold several rows of one
 * client key at once (the old and the new processes of a tool that changed); their counts are added
 * up, since Prometheus needs one series per label set.
 *
 * <p>Worker names, client keys and tool names come from workers and from the actions clients send,
 * so their number has no bound of its own: at most {@code metrics.maxPersistentWorkerSeries}
 * ({@link #MAX_LABEL_SETS} by default) (worker, key, tool) label sets are reported per scrape, the
 * first in the order of worker, key and tool; the rest add up under {@code worker="other",
 * key="other", tool="other"} (without per-process memory series, whose pids would collide across
 * workers). Which rows are folded is chosen at each scrape, so a counter moves between series when
 * the set of workers changes past the cap.
 */
final class PersistentWorkerCollector implements MultiCollector {
  private static final Logger logger = LoggerFactory.getLogger(Metrics.class);

  /**
   * Label sets per scrape by default ({@code metrics.maxPersistentWorkerSeries}); a few hundred
   * workers with a few tools each stay under it.
   */
  static final int MAX_LABEL_SETS = 500;

  /** The label value of the rows folded together beyond the cap. */
  static final String OTHER = "other";

  private static final double[] BOUNDS_SECONDS = boundsSeconds();

  private final WorkerReports reports;
  private final int maxLabelSets;
  private final String capNote;

  PersistentWorkerCollector(WorkerReports reports) {
    this(reports, MAX_LABEL_SETS);
  }

  /** A collector that reports at most {@code maxLabelSets} label sets besides "other". */
  PersistentWorkerCollector(WorkerReports reports, int maxLabelSets) {
    if (maxLabelSets < 1) {
      throw new IllegalArgumentException(
          "maxPersistentWorkerSeries must be positive: " + maxLabelSets);
    }
    this.reports = reports;
    this.maxLabelSets = maxLabelSets;
    this.capNote =
        " At most "
            + maxLabelSets
            + " worker/key/tool label sets are reported (metrics.maxPersistentWorkerSeries); the"
            + " rest add up under worker, key and tool \"other\".";
  }

  private static double[] boundsSeconds() {
    List<Duration> bounds = PoolStats.LATENCY_BUCKET_BOUNDS;
    double[] seconds = new double[bounds.size() + 1];
    for (int i = 0; i < bounds.size(); i++) {
      seconds[i] = bounds.get(i).toNanos() / 1e9;
    }
    seconds[bounds.size()] = Double.POSITIVE_INFINITY;
    return seconds;
  }

  @Override
  public MetricSnapshots collect() {
    Map<String, WorkerReports.Report> snapshot;
    try {
      snapshot = reports.snapshot();
    } catch (RuntimeException e) {
      logger.warn("reading the workers' reports for /metrics failed", e);
      snapshot = Map.of();
    }
    Gauges processes =
        new Gauges(
            "persistent_worker_processes",
            "Persistent worker processes by state: starting, idle, busy or retiring." + capNote);
    Counters spawns =
        new Counters("persistent_worker_spawns", "Persistent worker processes started." + capNote);
    Counters retirements =
        new Counters(
            "persistent_worker_retirements",
            "Persistent worker processes retired, by reason: idle, max_requests, memory, crash,"
                + " tool_change, cancelled or shutdown."
                + capNote);
    Counters requests =
        new Counters(
            "persistent_worker_requests",
            "Requests given to persistent worker processes; start=cold for a process's first"
                + " request, warm for the others."
                + capNote);
    Counters waitsAtCap =
        new Counters(
            "persistent_worker_waits_at_cap",
            "Requests that found every process of their key busy and no room for another, and"
                + " waited (or failed at once, with no time to wait)."
                + capNote);
    Counters idleRestarts =
        new Counters(
            "persistent_worker_idle_restarts",
            "Processes started within the idle timeout after one of the key retired for"
                + " idleness; a sign the idle timeout is too short."
                + capNote);
    HistogramSnapshot.Builder durations =
        HistogramSnapshot.builder()
            .name("persistent_worker_request_duration_seconds")
            .help(
                "How long requests held their persistent worker process, with the input sync and"
                    + " output collection around them."
                    + capNote);
    Gauges resident =
        new Gauges(
            "persistent_worker_resident_bytes",
            "Resident memory of each persistent worker process, as read after its latest"
                + " request."
                + capNote);

    for (Row row : rows(snapshot, maxLabelSets)) {
      Labels labels = Labels.of("worker", row.worker, "key", row.key, "tool", row.tool);
      processes.add(labels.add("state", "starting"), row.starting);
      processes.add(labels.add("state", "idle"), row.idle);
      processes.add(labels.add("state", "busy"), row.busy);
      processes.add(labels.add("state", "retiring"), row.retiring);
      spawns.add(labels, row.spawns);
      for (RetirementReason reason : RetirementReason.values()) {
        retirements.add(labels.add("reason", reason.label()), row.retired[reason.ordinal()]);
      }
      requests.add(labels.add("start", "warm"), row.warm);
      requests.add(labels.add("start", "cold"), row.cold);
      waitsAtCap.add(labels, row.waitsAtCap);
      idleRestarts.add(labels, row.idleRestarts);
      durations.dataPoint(row.histogram(labels));
      if (row.folded) {
        continue;
      }
      for (ProcessStats process : row.processes) {
        if (process.pid() > 0 && process.residentBytes().isPresent()) {
          resident.add(
              labels.add("pid", Long.toString(process.pid())), process.residentBytes().getAsLong());
        }
      }
    }
    return MetricSnapshots.of(
        processes.build(),
        spawns.build(),
        retirements.build(),
        requests.build(),
        waitsAtCap.build(),
        idleRestarts.build(),
        durations.build(),
        resident.build());
  }

  /**
   * Every worker's pool rows added up by worker, client key and tool, in that order; beyond {@code
   * maxLabelSets} label sets, added up in one row labelled {@link #OTHER}.
   */
  static List<Row> rows(Map<String, WorkerReports.Report> snapshot, int maxLabelSets) {
    Map<String, Map<String, Map<String, List<KeyStats>>>> sorted = new TreeMap<>();
    for (WorkerReports.Report report : snapshot.values()) {
      if (report.persistentWorkers().isEmpty()) {
        continue;
      }
      for (KeyStats key : report.persistentWorkers().get().keys()) {
        sorted
            .computeIfAbsent(report.worker(), unused -> new TreeMap<>())
            .computeIfAbsent(key.clientKey(), unused -> new TreeMap<>())
            .computeIfAbsent(key.tool(), unused -> new ArrayList<>())
            .add(key);
      }
    }
    List<Row> rows = new ArrayList<>();
    Row other = null;
    for (var byWorker : sorted.entrySet()) {
      for (var byKey : byWorker.getValue().entrySet()) {
        for (var byTool : byKey.getValue().entrySet()) {
          boolean looksFolded =
              OTHER.equals(byWorker.getKey())
                  && OTHER.equals(byKey.getKey())
                  && OTHER.equals(byTool.getKey());
          Row row;
          if (rows.size() < maxLabelSets && !looksFolded) {
            row = new Row(byWorker.getKey(), byKey.getKey(), byTool.getKey(), false);
            rows.add(row);
          } else {
            if (other == null) {
              other = new Row(OTHER, OTHER, OTHER, true);
            }
            row = other;
          }
          byTool.getValue().forEach(row::add);
        }
      }
    }
    if (other != null) {
      rows.add(other);
    }
    return rows;
  }

  /** The sums of the rows of one client key and tool. */
  static final class Row {
    final String worker;
    final String key;
    final String tool;
    final boolean folded; // the rows beyond the cap, added up
    int starting;
    int idle;
    int busy;
    int retiring;
    long spawns;
    final long[] retired = new long[RetirementReason.values().length];
    long warm;
    long cold;
    long waitsAtCap;
    long idleRestarts;
    long latencyCount;
    Duration latencySum = Duration.ZERO;
    // Null once a row without a known distribution was added.
    long[] buckets = new long[PoolStats.LATENCY_BUCKET_BOUNDS.size()];
    final List<ProcessStats> processes = new ArrayList<>();

    Row(String worker, String key, String tool, boolean folded) {
      this.worker = worker;
      this.key = key;
      this.tool = tool;
      this.folded = folded;
    }

    void add(KeyStats stats) {
      starting += stats.starting();
      idle += stats.idle();
      busy += stats.busy();
      retiring += stats.retiring();
      PoolStats.Counters counters = stats.counters();
      spawns += counters.spawns();
      for (RetirementReason reason : RetirementReason.values()) {
        retired[reason.ordinal()] += counters.retired(reason);
      }
      warm += counters.warmRequests();
      cold += counters.coldRequests();
      waitsAtCap += counters.waitsAtCap();
      idleRestarts += counters.idleRestarts();
      latencyCount += counters.latencyCount();
      latencySum = latencySum.plus(counters.latencySum());
      List<Long> known = counters.latencyBuckets();
      if (known.isEmpty()) {
        buckets = null;
      } else if (buckets != null) {
        for (int i = 0; i < buckets.length; i++) {
          buckets[i] += known.get(i);
        }
      }
      processes.addAll(stats.processes());
    }

    HistogramDataPointSnapshot histogram(Labels labels) {
      ClassicHistogramBuckets classic;
      if (buckets == null) {
        // Only the total is known: a histogram with the +Inf bucket alone is still a true one.
        classic =
            ClassicHistogramBuckets.of(
                new double[] {Double.POSITIVE_INFINITY}, new long[] {latencyCount});
      } else {
        long[] counts = new long[buckets.length + 1];
        long below = 0;
        for (int i = 0; i < buckets.length; i++) {
          counts[i] = buckets[i];
          below += buckets[i];
        }
        counts[buckets.length] = Math.max(0, latencyCount - below);
        classic = ClassicHistogramBuckets.of(BOUNDS_SECONDS, counts);
      }
      return HistogramDataPointSnapshot.builder()
          .labels(labels)
          .classicHistogramBuckets(classic)
          .sum(latencySum.toNanos() / 1e9)
          .build();
    }
  }
}
