package build.hearth.core.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class DurationsTest {
  // Formerly LocalActionRunner.describe's test: timeouts read the same on every path now, so 1.5
  // seconds is "1s500ms" there too.
  @Test
  void formatsEveryDurationOfAMessageTheSameWay() {
    assertThat(Durations.format(Duration.ofSeconds(10))).isEqualTo("10s");
    assertThat(Durations.format(Duration.ofHours(3))).isEqualTo("3h");
    assertThat(Durations.format(Duration.ofHours(2))).isEqualTo("2h");
    assertThat(Durations.format(Duration.ofMinutes(90))).isEqualTo("1h30m");
    assertThat(Durations.format(Duration.ofSeconds(45))).isEqualTo("45s");
    assertThat(Durations.format(Duration.ofMillis(1500))).isEqualTo("1s500ms");
    assertThat(Durations.format(Duration.ofMillis(250))).isEqualTo("250ms");
    assertThat(Durations.format(Duration.ZERO)).isEqualTo("0s");
    assertThat(Durations.format(Duration.ofHours(25))).isEqualTo("25h");
  }

  @Test
  void aTimeoutTooLongToCountInNanosecondsSaturates() {
    assertThat(Durations.toNanosSaturated(Duration.ofSeconds(1))).isEqualTo(1_000_000_000L);
    assertThat(Durations.toNanosSaturated(Duration.ofDays(365L * 1000))).isEqualTo(Long.MAX_VALUE);
  }
}
