package build.hearth.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The arithmetic and the verdicts of the report; no timing is measured here. */
class ReportTest {

  @Test
  void ratesArePerIterationAndTheMedianOfAnEvenCountIsTheMeanOfTheMiddleTwo() {
    // 100 MB per iteration taking 1 s, 0.5 s, 0.25 s and 2 s: 100, 200, 400 and 50 MB/s.
    Measurement m =
        new Measurement(
            "w",
            "100 MB",
            "MB/s",
            100,
            1,
            new long[] {1_000_000_000, 500_000_000, 250_000_000, 2_000_000_000});

    assertThat(m.medianRate()).isEqualTo(150.0);
    assertThat(m.minRate()).isEqualTo(50.0);
    assertThat(m.maxRate()).isEqualTo(400.0);
    assertThat(m.medianMillis()).isEqualTo(750.0);
  }

  @Test
  void aMeasurementNeedsAtLeastOneIteration() {
    assertThatThrownBy(() -> new Measurement("w", "x", "MB/s", 1, 0, new long[0]))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void verdictsCompareTheWriteRatioAndTheDigestRateWithTheTargets() {
    Measurement sha = seconds("SHA-256", 1000, 1.0);
    Measurement write = seconds("ByteStream Write", 600, 1.0);
    Measurement findMissing = seconds("FindMissingBlobs", 10_000, 0.2);
    Report report = new Report();
    report.add(sha);
    report.add(write);
    report.add(findMissing);

    String rendered = report.render(sha, write, findMissing);

    assertThat(rendered)
        .contains(
            "| ByteStream Write / single-core SHA-256 | 0.60 (600 / 1,000 MB/s) | >= 0.60 | PASS |")
        .contains(
            "| FindMissingBlobs throughput | 50,000 digests/s | >= 100,000 digests/s | MISS |");
  }

  @Test
  void threadNamesFoldIntoPools() {
    assertThat(CpuTimes.pool("hearth-grpc-ser")).isEqualTo("server service pool");
    assertThat(CpuTimes.pool("bench-client-4-1")).isEqualTo("client transport (Netty)");
    assertThat(CpuTimes.pool("grpc-default-wo")).isEqualTo("server transport (Netty)");
    assertThat(CpuTimes.pool("C2 CompilerThre")).isEqualTo("JIT compiler");
    assertThat(CpuTimes.pool("GC Thread#1")).isEqualTo("GC and VM");
    assertThat(CpuTimes.pool("some-pool-12")).isEqualTo("some-pool");
  }

  @Test
  void cpuTimesOfTheCallingThreadAreSeen() {
    CpuTimes cpu = new CpuTimes();
    CpuTimes.Snapshot before = CpuTimes.snapshot();
    CpuTimes.Snapshot after = CpuTimes.snapshot();
    cpu.add(before, after);

    assertThat(cpu.describe()).startsWith("wall ").contains("cores busy");
  }

  private static Measurement seconds(String name, double work, double seconds) {
    return new Measurement(name, "x", "u", work, 0, new long[] {(long) (seconds * 1e9)});
  }
}
