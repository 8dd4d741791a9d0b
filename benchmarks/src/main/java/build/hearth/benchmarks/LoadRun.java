package build.hearth.benchmarks;

import java.util.Objects;
import java.util.Optional;

/**
 * One measured closed-loop run: the latency of each operation, the wall time of all of them, where
 * the CPU went, and for Execute runs the phases of each action.
 *
 * @param concurrency how many operations were in flight at a time
 * @param latencies one iteration per operation, its duration as its caller saw it
 * @param wallNanos from the start of the first operation to the end of the last
 * @param cpu what {@link CpuTimes#describe()} said about the run, or a note why it is unknown
 * @param phases the Execute phases of each action; empty for the direct spawns
 */
record LoadRun(
    int concurrency, Measurement latencies, long wallNanos, String cpu, Optional<Phases> phases) {

  LoadRun {
    Objects.requireNonNull(latencies, "latencies");
    Objects.requireNonNull(cpu, "cpu");
    Objects.requireNonNull(phases, "phases");
    if (concurrency < 1 || wallNanos <= 0) {
      throw new IllegalArgumentException(
          "concurrency and wall time must be positive: " + concurrency + ", " + wallNanos);
    }
  }

  /** Operations per second over the whole run. */
  double throughput() {
    return latencies.iterations() / (wallNanos / 1e9);
  }
}
