package build.hearth.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;

/** The summary lines below are copied from what Bazel 4.2.3 printed in this environment. */
class ProcessSummaryTest {

  @Test
  void readsALocalBuild() {
    ProcessSummary summary =
        ProcessSummary.parse(
            """
            INFO: Analyzed 22 targets (5 packages loaded, 28 targets configured).
            INFO: Found 22 targets...
            INFO: Elapsed time: 3.273s, Critical Path: 1.35s
            INFO: 23 processes: 1 internal, 22 linux-sandbox.
            INFO: Build completed successfully, 23 total actions
            """);

    assertThat(summary.total()).isEqualTo(23);
    assertThat(summary.internal()).isEqualTo(1);
    assertThat(summary.spawns()).isEqualTo(22);
    assertThat(summary.executedLocally()).isEqualTo(22);
    assertThat(summary.remoteCacheHits()).isZero();
    assertThat(summary.remotelyExecuted()).isZero();
  }

  @Test
  void readsCacheHitsInWhateverOrderBazelListsThem() {
    ProcessSummary summary =
        ProcessSummary.parse("INFO: 23 processes: 22 remote cache hit, 1 internal.\n");

    assertThat(summary.remoteCacheHits()).isEqualTo(22);
    assertThat(summary.spawns()).isEqualTo(22);
    assertThat(summary.executedLocally()).isZero();
  }

  @Test
  void countsEveryLocalStrategyAsLocal() {
    ProcessSummary summary =
        ProcessSummary.parse(
            "INFO: 9 processes: 1 internal, 2 local, 3 processwrapper-sandbox, 3 worker.");

    assertThat(summary.executedLocally()).isEqualTo(8);
    assertThat(summary.count("worker")).isEqualTo(3);
  }

  @Test
  void readsRemoteExecution() {
    ProcessSummary summary =
        ProcessSummary.parse("INFO: 31 processes: 2 internal, 4 remote cache hit, 25 remote.");

    assertThat(summary.remotelyExecuted()).isEqualTo(25);
    assertThat(summary.remoteCacheHits()).isEqualTo(4);
    assertThat(summary.spawns()).isEqualTo(29);
  }

  @Test
  void readsSingularAndEmptySummaries() {
    assertThat(ProcessSummary.parse("INFO: 1 process: 1 internal.").internal()).isEqualTo(1);
    ProcessSummary none = ProcessSummary.parse("INFO: 0 processes.");
    assertThat(none.total()).isZero();
    assertThat(none.counts()).isEmpty();
  }

  @Test
  void usesTheLastSummaryInTheOutput() {
    ProcessSummary summary =
        ProcessSummary.parse(
            "INFO: 3 processes: 1 internal, 2 linux-sandbox.\n"
                + "INFO: 3 processes: 2 remote cache hit, 1 internal.\n");

    assertThat(summary.remoteCacheHits()).isEqualTo(2);
  }

  @Test
  void failsWhenTheLineIsMissing() {
    assertThatThrownBy(() -> ProcessSummary.parse("ERROR: build failed\n"))
        .isInstanceOf(AssertionFailedError.class)
        .hasMessageContaining("INFO: N processes")
        .hasMessageContaining("ERROR: build failed");
  }

  @Test
  void failsOnAKindItCannotClassify() {
    assertThatThrownBy(() -> ProcessSummary.parse("INFO: 2 processes: 2 teleported."))
        .isInstanceOf(AssertionFailedError.class)
        .hasMessageContaining("unknown process kind 'teleported'");
  }

  @Test
  void failsWhenTheCountsDoNotAddUp() {
    assertThatThrownBy(() -> ProcessSummary.parse("INFO: 5 processes: 1 internal, 2 local."))
        .isInstanceOf(AssertionFailedError.class)
        .hasMessageContaining("add up to 3, not 5");
  }
}
