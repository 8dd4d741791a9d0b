package build.hearth.benchmarks;

import java.util.Arrays;

/**
 * The measured (not warm-up) iterations of one operation: how long each took and how much work it
 * did, reported as a rate per second.
 *
 * @param name what was measured, for the report
 * @param work a human description of one iteration's work, such as "256 MiB"
 * @param unit the unit of the rate, such as "MB/s" (10^6 bytes per second)
 * @param workPerIteration the amount of work per iteration in {@code unit}-seconds, such as bytes /
 *     10^6 for MB/s
 * @param warmups how many iterations ran before these and were discarded
 * @param nanos the duration of each measured iteration
 */
record Measurement(
    String name, String work, String unit, double workPerIteration, int warmups, long[] nanos) {

  Measurement {
    if (nanos.length == 0) {
      throw new IllegalArgumentException("no measured iterations for " + name);
    }
    nanos = nanos.clone();
  }

  @Override
  public long[] nanos() {
    return nanos.clone();
  }

  int iterations() {
    return nanos.length;
  }

  double medianRate() {
    return median(rates());
  }

  double minRate() {
    return Arrays.stream(rates()).min().orElseThrow();
  }

  double maxRate() {
    return Arrays.stream(rates()).max().orElseThrow();
  }

  /** The fastest measured iteration, in milliseconds. */
  double minMillis() {
    return Arrays.stream(nanos).min().orElseThrow() / 1e6;
  }

  double medianMillis() {
    return median(Arrays.stream(nanos).asDoubleStream().toArray()) / 1e6;
  }

  /**
   * The duration at quantile {@code q} ({@code 0 < q <= 1}) by the nearest-rank method: the
   * smallest measured duration that at least {@code q} of all are at or below. No interpolation, so
   * p99 of a few hundred iterations is one of the slowest few, not a blend of them.
   */
  double percentileMillis(double q) {
    if (!(q > 0 && q <= 1)) {
      throw new IllegalArgumentException("quantile must be in (0, 1], got " + q);
    }
    long[] sorted = nanos.clone();
    Arrays.sort(sorted);
    int rank = (int) Math.ceil(q * sorted.length);
    return sorted[Math.max(rank, 1) - 1] / 1e6;
  }

  double maxMillis() {
    return Arrays.stream(nanos).max().orElseThrow() / 1e6;
  }

  private double[] rates() {
    return Arrays.stream(nanos).mapToDouble(n -> workPerIteration / (n / 1e9)).toArray();
  }

  private static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    int mid = sorted.length / 2;
    return sorted.length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Measurement m
        && name.equals(m.name)
        && work.equals(m.work)
        && unit.equals(m.unit)
        && workPerIteration == m.workPerIteration
        && warmups == m.warmups
        && Arrays.equals(nanos, m.nanos);
  }

  @Override
  public int hashCode() {
    return 31 * name.hashCode() + Arrays.hashCode(nanos);
  }

  @Override
  public String toString() {
    return name + " " + Arrays.toString(nanos) + " ns";
  }
}
