package build.hearth.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Random;
import org.junit.jupiter.api.Test;

class BackoffTest {

  @Test
  void doublesUpToTheMaximumWithJitterAndStartsOverAfterReset() {
    Backoff backoff = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(10), new Random(7));
    long[] expected = {100, 200, 400, 800, 1600, 3200, 6400, 10_000, 10_000};
    for (long base : expected) {
      long delay = backoff.next().toMillis();
      assertThat(delay).isBetween((long) (base * 0.8), Math.min(10_000, (long) (base * 1.2)));
    }
    backoff.reset();
    assertThat(backoff.next().toMillis()).isBetween(80L, 120L);
  }

  @Test
  void jitterSpreadsTheDelays() {
    Backoff backoff = new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(1), new Random(1));
    long first = backoff.next().toMillis();
    boolean differs = false;
    for (int i = 0; i < 10 && !differs; i++) {
      differs = backoff.next().toMillis() != first;
    }
    assertThat(differs).isTrue();
  }
}
