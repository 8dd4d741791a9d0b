package build.hearth.core.ops;

import static org.assertj.core.api.Assertions.assertThat;

import build.hearth.testing.FakeClock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class WorkerReportsTest {
  private static final Instant T0 = Instant.parse("2024-05-01T12:00:00Z");

  @Test
  void anInProcessWorkersReportIsDatedByTheInjectedClock() {
    FakeClock clock = new FakeClock(T0);
    WorkerReports reports = new WorkerReports(clock);
    reports.registerLive("local", "default", Optional::empty);

    assertThat(reports.snapshot().get("local").reportedAt()).isEqualTo(T0);
    clock.advance(Duration.ofMinutes(3));
    assertThat(reports.snapshot().get("local").reportedAt()).isEqualTo(T0.plusSeconds(180));
  }

  @Test
  void aDrainingWorkerIsListedAsDrainingUntilItIsRemoved() {
    WorkerReports reports = new WorkerReports(new FakeClock(T0));
    reports.updateRemote("remote-1", "default", Optional.empty());

    reports.markDraining("remote-1");
    reports.updateRemote("remote-1", "default", Optional.empty());

    assertThat(reports.snapshot().get("remote-1").draining()).isTrue();
    reports.remove("remote-1");
    // A worker connecting again under the name is a new one, not draining.
    reports.updateRemote("remote-1", "default", Optional.empty());
    assertThat(reports.snapshot().get("remote-1").draining()).isFalse();
    assertThat(reports.isDraining("remote-1")).isFalse();
  }

  @Test
  void aSentReportKeepsTheTimeItArrived() {
    FakeClock clock = new FakeClock(T0);
    WorkerReports reports = new WorkerReports(clock);
    reports.update(
        new WorkerReports.Report(
            "remote-1", "default", true, T0.minusSeconds(5), Optional.empty()));

    clock.advance(Duration.ofMinutes(1));

    assertThat(reports.snapshot().get("remote-1").reportedAt()).isEqualTo(T0.minusSeconds(5));
  }
}
