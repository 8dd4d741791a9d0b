package build.hearth.benchmarks;

import build.hearth.benchmarks.Phases.Phase;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * Formats an Execute run as Markdown for {@code docs/benchmarks.md}: the machine and settings, the
 * latency and throughput of Hearth and of the direct spawn at each concurrency, where Hearth's time
 * went, and the verdict on the targets. Not thread-safe.
 */
final class ExecuteReport {
  /** The targets on 2 cores; measured, not tested, so missing one does not fail a run. */
  static final double OVERHEAD_TARGET_MILLIS = 3.0;

  static final double THROUGHPUT_TARGET = 300;

  /** A Hearth run and the direct spawns measured beside it, at one concurrency. */
  record Pair(LoadRun direct, LoadRun hearth) {
    Pair {
      if (direct.concurrency() != hearth.concurrency()) {
        throw new IllegalArgumentException(
            "a pair is measured at one concurrency, not "
                + direct.concurrency()
                + " and "
                + hearth.concurrency());
      }
      if (hearth.phases().isEmpty()) {
        throw new IllegalArgumentException("the Hearth run of a pair needs its phases");
      }
    }

    int concurrency() {
      return hearth.concurrency();
    }

    /** Hearth's median latency minus the direct spawn's. */
    double overheadMillis() {
      return hearth.latencies().medianMillis() - direct.latencies().medianMillis();
    }
  }

  private final List<String> settings = new ArrayList<>();
  private final List<String> notes = new ArrayList<>();
  private final List<Pair> pairs = new ArrayList<>();

  void setting(String name, String value) {
    settings.add("- " + name + ": " + value);
  }

  /** A line below the CPU breakdown, such as the CPU time of the spawned commands. */
  void note(String line) {
    notes.add("- " + line);
  }

  void add(Pair pair) {
    pairs.add(pair);
  }

  /**
   * The report. The overhead target is judged at the lowest concurrency (1 by default), where
   * nothing queues; the throughput target at the highest (32), where the worker's slots are full.
   *
   * @throws IllegalStateException if no pair was added
   */
  String render() {
    if (pairs.isEmpty()) {
      throw new IllegalStateException("nothing was measured");
    }
    List<Pair> byConcurrency =
        pairs.stream().sorted(Comparator.comparingInt(Pair::concurrency)).toList();
    StringBuilder out = new StringBuilder();
    out.append("## Hearth remote-execution overhead\n\n");
    Report.machine().forEach(line -> out.append(line).append('\n'));
    settings.forEach(line -> out.append(line).append('\n'));
    out.append('\n');

    out.append(
        "| Run | Concurrency | Actions (+ warm-up) | p50 | p90 | p99 | max | Throughput |\n");
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for (Pair pair : byConcurrency) {
      row(out, "Direct spawn (ProcessBuilder)", pair.direct());
      row(out, "Hearth Execute over gRPC", pair.hearth());
    }

    out.append("\nWhere a Hearth action's time goes, median / mean in ms per phase (the means add")
        .append(" up to the mean total):\n\n");
    out.append("| Phase |");
    byConcurrency.forEach(p -> out.append(" Concurrency ").append(p.concurrency()).append(" |"));
    out.append("\n|---|");
    byConcurrency.forEach(p -> out.append("---:|"));
    out.append('\n');
    for (Phase phase : Phase.values()) {
      out.append("| ").append(phase.label).append(" |");
      for (Pair pair : byConcurrency) {
        Phases phases = pair.hearth().phases().orElseThrow();
        out.append(
            String.format(
                Locale.ROOT,
                " %s / %s |",
                millis(phases.medianMillis(phase)),
                millis(phases.meanMillis(phase))));
      }
      out.append('\n');
    }

    out.append("\nCPU time inside the measured runs (user + system, summed per thread pool):\n\n");
    for (Pair pair : byConcurrency) {
      out.append("- Direct spawn, concurrency ")
          .append(pair.concurrency())
          .append(": ")
          .append(pair.direct().cpu())
          .append('\n');
      out.append("- Hearth, concurrency ")
          .append(pair.concurrency())
          .append(": ")
          .append(pair.hearth().cpu())
          .append('\n');
    }
    notes.forEach(line -> out.append(line).append('\n'));

    Pair lowest = byConcurrency.get(0);
    Pair highest = byConcurrency.get(byConcurrency.size() - 1);
    double overhead = lowest.overheadMillis();
    double throughput = highest.hearth().throughput();
    out.append('\n');
    out.append("| Target | Measured | Goal | Result |\n");
    out.append("|---|---:|---:|---|\n");
    out.append(
        String.format(
            Locale.ROOT,
            "| p50 overhead at concurrency %d (Hearth p50 - direct spawn p50) | %s ms (%s - %s)"
                + " | <= %s ms | %s |%n",
            lowest.concurrency(),
            millis(overhead),
            millis(lowest.hearth().latencies().medianMillis()),
            millis(lowest.direct().latencies().medianMillis()),
            millis(OVERHEAD_TARGET_MILLIS),
            Report.verdict(overhead <= OVERHEAD_TARGET_MILLIS)));
    out.append(
        String.format(
            Locale.ROOT,
            "| Hearth throughput at concurrency %d | %s actions/s | >= %s actions/s | %s |%n",
            highest.concurrency(),
            Report.number(throughput),
            Report.number(THROUGHPUT_TARGET),
            Report.verdict(throughput >= THROUGHPUT_TARGET)));
    return out.toString();
  }

  private static void row(StringBuilder out, String name, LoadRun run) {
    Measurement m = run.latencies();
    out.append(
        String.format(
            Locale.ROOT,
            "| %s | %d | %,d (+ %,d) | %s ms | %s ms | %s ms | %s ms | %s /s |%n",
            name,
            run.concurrency(),
            m.iterations(),
            m.warmups(),
            millis(m.medianMillis()),
            millis(m.percentileMillis(0.90)),
            millis(m.percentileMillis(0.99)),
            millis(m.maxMillis()),
            Report.number(run.throughput())));
  }

  /** Two decimals below 10 ms, one below 100, none above: as precise as such a run is. */
  static String millis(double value) {
    double magnitude = Math.abs(value);
    String format = magnitude < 10 ? "%.2f" : magnitude < 100 ? "%.1f" : "%,.0f";
    return String.format(Locale.ROOT, format, value);
  }
}
