package build.hearth.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import build.hearth.redis.testing.RedisServer;
import build.hearth.spi.scheduler.Enqueued;
import build.hearth.spi.scheduler.QueuedExecution;
import build.hearth.spi.scheduler.SchedulerState;
import com.google.protobuf.ByteString;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The scheduler state when Redis goes away: every call fails with UNAVAILABLE naming the address,
 * never a wrong answer (no "queue empty" while Redis is down), and the same state serves again,
 * scripts and notifications included, once Redis is back.
 */
class RedisSchedulerStateOutageTest {
  @TempDir Path dir;
  RedisServer redis;

  @BeforeEach
  void start() {
    redis = RedisServer.start(dir);
  }

  @AfterEach
  void stop() {
    redis.close();
  }

  private static QueuedExecution entry(String id) {
    return QueuedExecution.of(
        id, "linux", "", 0, Duration.ZERO, ByteString.copyFromUtf8(id), Instant.now());
  }

  private void assertUnavailable(Runnable call) {
    assertThatThrownBy(call::run)
        .isInstanceOfSatisfying(
            HearthException.class,
            e -> assertThat(e.code()).as("%s", e).isEqualTo(StatusCode.UNAVAILABLE))
        .hasMessageContaining("127.0.0.1:" + redis.port())
        .hasMessageContaining("schedulers.default.state");
  }

  @Test
  void redisStoppedIsUnavailableAndRestartedServesAgainWithoutReopening() throws Exception {
    try (SchedulerState state =
        RedisSchedulerStateTest.openState(
            RedisTestStores.standalone(redis.uri()), RedisTestStores.freshPrefix())) {
      BlockingQueue<String> queued = new LinkedBlockingQueue<>();
      state.subscribe(
          new SchedulerState.Listener() {
            @Override
            public void queued(String queueKey) {
              queued.add(queueKey);
            }
          });
      state.enqueue(entry("before"), 100);
      assertThat(queued.poll(30, TimeUnit.SECONDS)).isEqualTo("linux");

      redis.stop();

      assertUnavailable(() -> state.enqueue(entry("during"), 100));
      assertUnavailable(
          () -> state.claim(List.of("linux"), "w1", "s1", Instant.now(), Duration.ZERO));
      assertUnavailable(() -> state.queues());
      assertUnavailable(() -> state.execution("before"));
      assertUnavailable(() -> state.lapsed(Instant.now(), 10));

      // A fresh Redis without persistence: the state is empty, and says so; the script cache is
      // empty too, so the scripts are sent again, and the subscription is renewed.
      redis.start();
      await()
          .atMost(Duration.ofSeconds(60))
          .ignoreException(HearthException.class)
          .untilAsserted(() -> assertThat(state.queues()).isEmpty());
      assertThat(state.enqueue(entry("after"), 100).outcome()).isEqualTo(Enqueued.Outcome.QUEUED);
      assertThat(
              state
                  .claim(List.of("linux"), "w1", "s1", Instant.now(), Duration.ZERO)
                  .orElseThrow()
                  .execution()
                  .executionId())
          .isEqualTo("after");
      await()
          .atMost(Duration.ofSeconds(60))
          .untilAsserted(
              () -> {
                queued.clear();
                state.enqueue(entry("probe-" + System.nanoTime()), 100);
                assertThat(queued.poll(2, TimeUnit.SECONDS)).isEqualTo("linux");
              });
    }
  }
}
