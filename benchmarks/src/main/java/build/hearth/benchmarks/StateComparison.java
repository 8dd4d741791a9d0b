package build.hearth.benchmarks;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Formats the same trivial-action load run against the deployments of {@code execute --state} (one
 * server in memory, one on Redis, two on Redis) as Markdown: p50 and throughput per deployment and
 * concurrency, and each deployment's throughput against the first's, with issue 16's goal. Not
 * thread-safe.
 */
final class StateComparison {
  /** Issue 16: trivial-action throughput on Redis at least this share of in-memory. */
  static final double THROUGHPUT_GOAL = 0.70;

  private record Entry(String deployment, LoadRun run) {}

  private final List<Entry> entries = new ArrayList<>();

  void add(String deployment, LoadRun run) {
    entries.add(new Entry(deployment, run));
  }

  /**
   * The comparison; the first deployment added at each concurrency is that concurrency's baseline.
   *
   * @throws IllegalStateException if nothing was added
   */
  String render() {
    if (entries.isEmpty()) {
      throw new IllegalStateException("nothing was measured");
    }
    StringBuilder out = new StringBuilder();
    out.append("\n## Scheduler state: in memory against Redis\n\n");
    out.append("The same actions, run against each deployment in turn:\n\n");
    out.append("| Deployment | Concurrency | Actions (+ warm-up) | p50 | p90 | Throughput |\n");
    out.append("|---|---:|---:|---:|---:|---:|\n");
    List<Integer> levels = entries.stream().map(e -> e.run().concurrency()).distinct().toList();
    for (int level : levels) {
      for (Entry entry : atConcurrency(level)) {
        Measurement m = entry.run().latencies();
        out.append(
            String.format(
                Locale.ROOT,
                "| `%s` | %d | %,d (+ %,d) | %s ms | %s ms | %s /s |%n",
                entry.deployment(),
                level,
                m.iterations(),
                m.warmups(),
                ExecuteReport.millis(m.medianMillis()),
                ExecuteReport.millis(m.percentileMillis(0.90)),
                Report.number(entry.run().throughput())));
      }
    }
    out.append('\n');
    out.append("| Throughput against the baseline | Measured | Goal | Result |\n");
    out.append("|---|---:|---:|---|\n");
    for (int level : levels) {
      List<Entry> runs = atConcurrency(level);
      Entry baseline = runs.get(0);
      for (Entry entry : runs.subList(1, runs.size())) {
        double ratio = entry.run().throughput() / baseline.run().throughput();
        out.append(
            String.format(
                Locale.ROOT,
                "| `%s` / `%s`, concurrency %d | %.2f | >= %.2f | %s |%n",
                entry.deployment(),
                baseline.deployment(),
                level,
                ratio,
                THROUGHPUT_GOAL,
                ratio >= THROUGHPUT_GOAL ? "PASS" : "MISS"));
      }
    }
    return out.toString();
  }

  private List<Entry> atConcurrency(int level) {
    return entries.stream().filter(e -> e.run().concurrency() == level).toList();
  }
}
