package build.hearth.redis;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.ConnectException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The health check's probes: at most one per interval and one at a time, never waited for. */
class HealthCheckTest {
  private static final long SECOND = 1_000_000_000L;

  private final AtomicLong now = new AtomicLong(42 * SECOND);
  private final List<CompletableFuture<Object>> probes = new ArrayList<>();
  private final HealthCheck check =
      new HealthCheck(
          () -> {
            CompletableFuture<Object> reply = new CompletableFuture<>();
            probes.add(reply);
            return reply;
          },
          e -> "Redis at redis://10.0.0.5:6379 does not answer (" + e.getMessage() + ")",
          now::get,
          SECOND);

  @Test
  void asksAtMostOncePerIntervalAndAnswersFromTheLastReply() {
    for (int i = 0; i < 1000; i++) {
      assertThat(check.problem()).isEmpty();
    }
    assertThat(probes).as("probes sent by 1000 calls within the interval").hasSize(1);

    // A probe still in flight after the interval is not doubled.
    now.addAndGet(2 * SECOND);
    assertThat(check.problem()).isEmpty();
    assertThat(probes).hasSize(1);

    probes.get(0).completeExceptionally(new ConnectException("Connection refused"));
    assertThat(check.problem())
        .as("the failed reply, before the next interval")
        .hasValue("Redis at redis://10.0.0.5:6379 does not answer (Connection refused)");
    assertThat(probes).as("the interval counts from the last probe sent").hasSize(2);

    probes.get(1).completeExceptionally(new ConnectException("Connection refused"));
    now.addAndGet(SECOND);
    assertThat(check.problem()).isPresent();
    assertThat(probes).hasSize(3);
    probes.get(2).complete("PONG");
    assertThat(check.problem()).isEmpty();
    assertThat(probes).hasSize(3);
  }

  @Test
  void aProbeThatFailsAtOnceIsAnsweredAtOnce() {
    HealthCheck failing =
        new HealthCheck(
            () -> {
              throw new IllegalStateException("the connection is closed");
            },
            e -> "down: " + e.getMessage(),
            now::get,
            SECOND);
    assertThat(failing.problem()).hasValue("down: the connection is closed");
  }
}
