package build.hearth.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import build.bazel.remote.execution.v2.ExecutedActionMetadata;
import build.hearth.benchmarks.Phases.Phase;
import com.google.protobuf.Timestamp;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

/** The arithmetic and the verdicts of the Execute report, on made-up numbers; nothing is timed. */
class ExecuteReportTest {
  private static final Instant T0 = Instant.parse("2026-11-28T12:00:00Z");

  @Test
  void percentilesAreNearestRank() {
    // 1 ms to 100 ms, shuffled a little so the order of the input does not matter.
    long[] nanos = LongStream.rangeClosed(1, 100).map(i -> (101 - i) * 1_000_000).toArray();
    Measurement m = new Measurement("x", "1 action", "actions/s", 1, 0, nanos);

    assertThat(m.percentileMillis(0.90)).isEqualTo(90.0);
    assertThat(m.percentileMillis(0.99)).isEqualTo(99.0);
    assertThat(m.percentileMillis(1.0)).isEqualTo(100.0);
    assertThat(m.percentileMillis(0.001)).isEqualTo(1.0);
    assertThat(m.maxMillis()).isEqualTo(100.0);
    assertThat(m.medianMillis()).isEqualTo(50.5);
    assertThatThrownBy(() -> m.percentileMillis(0)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> m.percentileMillis(1.5)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void phasesFollowEachOtherAndTheirMeansAddUpToTheTotal() {
    // Offsets in microseconds from the send: worker start, fetch start, fetch done, exec start,
    // exec done, worker done, received.
    List<ExecuteClient.Sample> samples =
        List.of(
            sample(800, 810, 1000, 1100, 2300, 2400, 3000),
            sample(600, 620, 900, 950, 2950, 3000, 4000),
            sample(1000, 1010, 1200, 1300, 2500, 2560, 3200));

    Phases phases = Phases.of(samples);

    assertThat(phases.medianMillis(Phase.TO_WORKER)).isEqualTo(0.8);
    assertThat(phases.medianMillis(Phase.EXECUTION)).isEqualTo(1.2);
    assertThat(phases.medianMillis(Phase.TO_CLIENT)).isEqualTo(0.64);
    assertThat(phases.medianMillis(Phase.TOTAL)).isEqualTo(3.2);
    double sum = 0;
    for (Phase phase : Phase.values()) {
      if (phase != Phase.TOTAL) {
        sum += phases.meanMillis(phase);
      }
    }
    assertThat(sum).isCloseTo(phases.meanMillis(Phase.TOTAL), within(1e-9));
    assertThat(phases.meanMillis(Phase.TOTAL)).isCloseTo(3.4, within(1e-9));
  }

  @Test
  void aResultWithoutAWorkerTimestampIsRefused() {
    ExecuteClient.Sample sample =
        new ExecuteClient.Sample(
            T0, T0.plusMillis(3), "operations/x", ExecutedActionMetadata.getDefaultInstance());

    assertThatThrownBy(() -> Phases.of(List.of(sample)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("operations/x")
        .hasMessageContaining("worker_start_timestamp");
  }

  @Test
  void overheadIsJudgedAtTheLowestConcurrencyAndThroughputAtTheHighest() {
    ExecuteReport report = new ExecuteReport();
    // Added out of order: the report sorts by concurrency.
    report.add(pair(32, 30.0, 80.0, 2_000, 5.0)); // 2,000 actions in 5 s: 400/s
    report.add(pair(1, 1.5, 4.0, 300, 1.2));

    String rendered = report.render();

    assertThat(rendered)
        .contains(
            "| p50 overhead at concurrency 1 (Hearth p50 - direct spawn p50) | 2.50 ms (4.00 -"
                + " 1.50) | <= 3.00 ms | PASS |")
        .contains(
            "| Hearth throughput at concurrency 32 | 400 actions/s | >= 300 actions/s | PASS |")
        .contains("| Hearth Execute over gRPC | 32 | 2,000 (+ 10) | 80.0 ms |")
        .contains("| Direct spawn (ProcessBuilder) | 1 | 300 (+ 10) | 1.50 ms |");
    assertThat(rendered.indexOf("| Direct spawn (ProcessBuilder) | 1 |"))
        .isLessThan(rendered.indexOf("| Direct spawn (ProcessBuilder) | 32 |"));
  }

  @Test
  void missesAreReported() {
    ExecuteReport report = new ExecuteReport();
    report.add(pair(1, 1.0, 4.5, 300, 1.5)); // overhead 3.5 ms, 200/s

    assertThat(report.render())
        .contains("| 3.50 ms (4.50 - 1.00) | <= 3.00 ms | MISS |")
        .contains(
            "| Hearth throughput at concurrency 1 | 200 actions/s | >= 300 actions/s | MISS |");
  }

  @Test
  void aPairIsMeasuredAtOneConcurrencyAndTheReportNeedsOne() {
    LoadRun direct = run(1, 1.0, 10, 1.0, Optional.empty());
    LoadRun hearth = run(2, 3.0, 10, 1.0, Optional.of(phases()));

    assertThatThrownBy(() -> new ExecuteReport.Pair(direct, hearth))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new ExecuteReport.Pair(direct, direct))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new ExecuteReport().render())
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void millisecondsKeepTheirMeaningfulDigits() {
    assertThat(ExecuteReport.millis(1.234)).isEqualTo("1.23");
    assertThat(ExecuteReport.millis(12.34)).isEqualTo("12.3");
    assertThat(ExecuteReport.millis(1234.5)).isEqualTo("1,235");
    assertThat(ExecuteReport.millis(-0.5)).isEqualTo("-0.50");
  }

  @Test
  void workerAndDriverThreadsFoldIntoPools() {
    // Linux keeps 15 characters of a thread name.
    assertThat(CpuTimes.pool("hearth-worker-b")).isEqualTo("worker slots");
    assertThat(CpuTimes.pool("hearth-schedule")).isEqualTo("scheduler");
    assertThat(CpuTimes.pool("bench-driver-12")).isEqualTo("driver threads");
  }

  private static ExecuteReport.Pair pair(
      int concurrency, double directMillis, double hearthMillis, int actions, double seconds) {
    return new ExecuteReport.Pair(
        run(concurrency, directMillis, actions, seconds, Optional.empty()),
        run(concurrency, hearthMillis, actions, seconds, Optional.of(phases())));
  }

  /** {@code actions} operations that each took {@code millis}, in {@code seconds} of wall time. */
  private static LoadRun run(
      int concurrency, double millis, int actions, double seconds, Optional<Phases> phases) {
    long[] nanos = new long[actions];
    java.util.Arrays.fill(nanos, (long) (millis * 1e6));
    return new LoadRun(
        concurrency,
        new Measurement("x", "1 action", "actions/s", 1, 10, nanos),
        (long) (seconds * 1e9),
        "cpu",
        phases);
  }

  private static Phases phases() {
    return Phases.of(List.of(sample(1, 2, 3, 4, 5, 6, 7)));
  }

  private static ExecuteClient.Sample sample(
      long workerStart,
      long fetchStart,
      long fetchDone,
      long execStart,
      long execDone,
      long workerDone,
      long received) {
    ExecutedActionMetadata metadata =
        ExecutedActionMetadata.newBuilder()
            .setWorker("bench")
            .setWorkerStartTimestamp(at(workerStart))
            .setInputFetchStartTimestamp(at(fetchStart))
            .setInputFetchCompletedTimestamp(at(fetchDone))
            .setExecutionStartTimestamp(at(execStart))
            .setExecutionCompletedTimestamp(at(execDone))
            .setOutputUploadStartTimestamp(at(execDone))
            .setOutputUploadCompletedTimestamp(at(workerDone))
            .setWorkerCompletedTimestamp(at(workerDone))
            .build();
    return new ExecuteClient.Sample(
        T0, T0.plusNanos(received * 1000), "operations/" + received, metadata);
  }

  private static Timestamp at(long micros) {
    Instant instant = T0.plusNanos(micros * 1000);
    return Timestamp.newBuilder()
        .setSeconds(instant.getEpochSecond())
        .setNanos(instant.getNano())
        .build();
  }
}
