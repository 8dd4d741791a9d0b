package build.hearth.benchmarks;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * Formats the same trivial-action load run against servers whose worker differs only in its {@code
 * sandbox} setting, as Markdown: p50, minimum and throughput per setting and concurrency, and what
 * each setting adds over the first (the baseline, normally {@code off}) against the goals.
 * Not thread-safe.
 */
final class SandboxComparison {
  /** The goal for what the sandbox adds to the p50 latency of a trivial action. */
  static final double P50_GOAL_MILLIS = 1.0;

  /** The most the sandbox may add to the fastest trivial action. */
  static final double MIN_GOAL_MILLIS = 3.0;

  /**
   * One measured run.
   *
   * @param setting the worker's {@code sandbox} value, as given on the command line
   * @param run the Execute run
   */
  record Entry(String setting, LoadRun run) {
    Entry {
      Objects.requireNonNull(setting, "setting");
      Objects.requireNonNull(run, "run");
    }
  }

  private final List<Entry> entries = new ArrayList<>();

  void add(String setting, LoadRun run) {
    entries.add(new Entry(setting, run));
  }

  /**
   * The comparison. The first setting added at each concurrency is the baseline of that
   * concurrency.
   *
   * @throws IllegalStateException if nothing was added
   */
  String render() {
    if (entries.isEmpty()) {
      throw new IllegalStateException("nothing was measured");
    }
    StringBuilder out = new StringBuilder();
    out.append("\n## Sandboxed against unsandboxed workers\n\n");
    out.append("The same actions, run against one server per worker `sandbox` setting:\n\n");
    out.append(
        "| Worker sandbox | Concurrency | Actions (+ warm-up) | p50 | min | p90 | Throughput |\n");
    out.append("|---|---:|---:|---:|---:|---:|---:|\n");
    List<Integer> levels = entries.stream().map(e -> e.run().concurrency()).distinct().toList();
    for (int level : levels) {
      for (Entry entry : atConcurrency(level)) {
        Measurement m = entry.run().latencies();
        out.append(
            String.format(
                Locale.ROOT,
                "| `%s` | %d | %,d (+ %,d) | %s ms | %s ms | %s ms | %s /s |%n",
                entry.setting(),
                level,
                m.iterations(),
                m.warmups(),
                ExecuteReport.millis(m.medianMillis()),
                ExecuteReport.millis(m.minMillis()),
                ExecuteReport.millis(m.percentileMillis(0.90)),
                Report.number(entry.run().throughput())));
      }
    }
    out.append('\n');
    out.append("| What the setting adds over the baseline | Measured | Goal | Result |\n");
    out.append("|---|---:|---:|---|\n");
    for (int level : levels) {
      List<Entry> runs = atConcurrency(level);
      Entry baseline = runs.get(0);
      for (Entry entry : runs.subList(1, runs.size())) {
        double p50 = addedMedianMillis(baseline.run(), entry.run());
        double min = addedMinMillis(baseline.run(), entry.run());
        String versus = "`" + entry.setting() + "` over `" + baseline.setting() + "`";
        out.append(
            String.format(
                Locale.ROOT,
                "| p50, %s, concurrency %d | %s ms | <= %s ms | %s |%n",
                versus,
                level,
                ExecuteReport.millis(p50),
                ExecuteReport.millis(P50_GOAL_MILLIS),
                Report.verdict(p50 <= P50_GOAL_MILLIS)));
        out.append(
            String.format(
                Locale.ROOT,
                "| min, %s, concurrency %d | %s ms | <= %s ms | %s |%n",
                versus,
                level,
                ExecuteReport.millis(min),
                ExecuteReport.millis(MIN_GOAL_MILLIS),
                Report.verdict(min <= MIN_GOAL_MILLIS)));
        out.append(
            String.format(
                Locale.ROOT,
                "| throughput, %s, concurrency %d | %s /s against %s /s (%s%%) | | |%n",
                versus,
                level,
                Report.number(entry.run().throughput()),
                Report.number(baseline.run().throughput()),
                String.format(
                    Locale.ROOT,
                    "%+.0f",
                    (entry.run().throughput() / baseline.run().throughput() - 1) * 100)));
      }
    }
    return out.toString();
  }

  private List<Entry> atConcurrency(int level) {
    return entries.stream().filter(e -> e.run().concurrency() == level).toList();
  }

  static double addedMedianMillis(LoadRun baseline, LoadRun other) {
    return other.latencies().medianMillis() - baseline.latencies().medianMillis();
  }

  static double addedMinMillis(LoadRun baseline, LoadRun other) {
    return other.latencies().minMillis() - baseline.latencies().minMillis();
  }
}
