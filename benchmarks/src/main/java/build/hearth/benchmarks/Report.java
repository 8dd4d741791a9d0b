package build.hearth.benchmarks;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Formats a run as Markdown that can be pasted into {@code docs/benchmarks.md} as it is: the
 * machine, the settings, one table row per measurement and the verdict on each target.
 */
final class Report {
  /** The targets; a measurement, not a test, so missing one does not fail the run. */
  static final double WRITE_TO_SHA_TARGET = 0.60;

  static final double FIND_MISSING_TARGET = 100_000;

  private final List<String> settings = new ArrayList<>();
  private final List<Measurement> rows = new ArrayList<>();
  private final List<String> cpu = new ArrayList<>();

  void setting(String name, String value) {
    settings.add("- " + name + ": " + value);
  }

  void add(Measurement measurement) {
    rows.add(measurement);
  }

  /** A measurement and where the CPU went during its measured iterations. */
  void add(Measurement measurement, CpuTimes cpuTimes) {
    add(measurement);
    cpu.add("- " + measurement.name() + ": " + cpuTimes.describe());
  }

  /**
   * The report, judging the targets with {@code reference} (SHA-256), {@code write} and {@code
   * findMissing}.
   */
  String render(Measurement reference, Measurement write, Measurement findMissing) {
    StringBuilder out = new StringBuilder();
    out.append("## Hearth CAS load driver\n\n");
    machine().forEach(line -> out.append(line).append('\n'));
    settings.forEach(line -> out.append(line).append('\n'));
    out.append('\n');
    out.append("| Measurement | Work per iteration | Iterations (+ warm-up) | Median | Min | Max |")
        .append(" Median time |\n");
    out.append("|---|---|---:|---:|---:|---:|---:|\n");
    for (Measurement m : rows) {
      out.append(
          String.format(
              Locale.ROOT,
              "| %s | %s | %d (+ %d) | %s %s | %s | %s | %s ms |%n",
              m.name(),
              m.work(),
              m.iterations(),
              m.warmups(),
              number(m.medianRate()),
              m.unit(),
              number(m.minRate()),
              number(m.maxRate()),
              String.format(Locale.ROOT, "%.1f", m.medianMillis())));
    }
    if (!cpu.isEmpty()) {
      out.append("\nCPU time inside the measured iterations (user + system, summed per pool):\n\n");
      cpu.forEach(line -> out.append(line).append('\n'));
    }
    double ratio = write.medianRate() / reference.medianRate();
    double digestsPerSecond = findMissing.medianRate();
    out.append('\n');
    out.append("| Target | Measured (median) | Goal | Result |\n");
    out.append("|---|---:|---:|---|\n");
    out.append(
        String.format(
            Locale.ROOT,
            "| ByteStream Write / single-core SHA-256 | %.2f (%s / %s MB/s) | >= %.2f | %s |%n",
            ratio,
            number(write.medianRate()),
            number(reference.medianRate()),
            WRITE_TO_SHA_TARGET,
            verdict(ratio >= WRITE_TO_SHA_TARGET)));
    out.append(
        String.format(
            Locale.ROOT,
            "| FindMissingBlobs throughput | %s digests/s | >= %s digests/s | %s |%n",
            number(digestsPerSecond),
            number(FIND_MISSING_TARGET),
            verdict(digestsPerSecond >= FIND_MISSING_TARGET)));
    return out.toString();
  }

  static String verdict(boolean pass) {
    return pass ? "PASS" : "MISS";
  }

  static String number(double value) {
    return String.format(Locale.ROOT, value >= 100 ? "%,.0f" : "%,.2f", value);
  }

  /** What someone comparing two runs needs to know about the machine each ran on. */
  static List<String> machine() {
    List<String> lines = new ArrayList<>();
    lines.add("- CPU: " + cpuModel().orElse("unknown (no /proc/cpuinfo)"));
    lines.add("- Cores available to the JVM: " + Runtime.getRuntime().availableProcessors());
    lines.add(
        "- Java: "
            + System.getProperty("java.vm.name")
            + " "
            + System.getProperty("java.runtime.version")
            + ", max heap "
            + Runtime.getRuntime().maxMemory() / (1024 * 1024)
            + " MiB");
    lines.add(
        "- OS: "
            + System.getProperty("os.name")
            + " "
            + System.getProperty("os.version")
            + " ("
            + System.getProperty("os.arch")
            + ")");
    return lines;
  }

  /**
   * The 1-, 5- and 15-minute load averages: on a shared machine they say whether the run had the
   * cores to itself, which matters more than any other setting.
   */
  static String loadAverage() {
    try {
      String[] fields = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
      return fields[0] + " " + fields[1] + " " + fields[2];
    } catch (IOException | RuntimeException e) {
      return "unknown";
    }
  }

  private static Optional<String> cpuModel() {
    Path cpuinfo = Path.of("/proc/cpuinfo");
    if (!Files.isReadable(cpuinfo)) {
      return Optional.empty();
    }
    try (var lines = Files.lines(cpuinfo)) {
      return lines
          .filter(l -> l.startsWith("model name"))
          .map(l -> l.substring(l.indexOf(':') + 1).trim())
          .findFirst();
    } catch (IOException e) {
      return Optional.empty();
    }
  }
}
