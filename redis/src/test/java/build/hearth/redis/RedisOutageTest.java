package build.hearth.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import build.hearth.api.Digest;
import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import build.hearth.redis.testing.RedisServer;
import build.hearth.spi.scheduler.Enqueued;
import build.hearth.spi.scheduler.QueuedExecution;
import build.hearth.spi.scheduler.SchedulerState;
import build.hearth.spi.storage.ActionCacheStore;
import build.hearth.spi.storage.BlobStore;
import com.google.protobuf.ByteString;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the stores do when Redis goes away: every call fails with UNAVAILABLE naming the address and
 * what to check, never a wrong answer; and when Redis comes back (the same server restarted, or
 * thawed) the same store works again without being reopened.
 */
class RedisOutageTest {
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

  private Map<String, Object> settings(String... more) {
    Map<String, Object> settings = new HashMap<>(RedisTestStores.standalone(redis.uri()));
    settings.put("keyPrefix", RedisTestStores.freshPrefix());
    for (int i = 0; i < more.length; i += 2) {
      settings.put(more[i], more[i + 1]);
    }
    return settings;
  }

  private static Digest put(BlobStore store, byte[] content) {
    Digest digest = Digest.of(content);
    try (BlobStore.Upload upload = store.startUpload(digest)) {
      upload.write(content, 0, content.length);
      upload.commit();
    }
    return digest;
  }

  /** The configuration path of the scheduler state that the state's messages name. */
  private static final String STATE = "schedulers.default.state";

  /**
   * Checks that {@code call} fails with UNAVAILABLE naming Redis's address, what to check, and each
   * of {@code alsoNamed}.
   */
  private void assertUnavailable(Runnable call, String... alsoNamed) {
    assertThatThrownBy(call::run)
        .isInstanceOfSatisfying(
            HearthException.class,
            e -> assertThat(e.code()).as("%s", e).isEqualTo(StatusCode.UNAVAILABLE))
        .hasMessageContaining("redis://127.0.0.1:" + redis.port())
        .hasMessageContaining("check that Redis runs")
        .satisfies(
            e -> {
              for (String named : alsoNamed) {
                assertThat(e).hasMessageContaining(named);
              }
            });
  }

  private static QueuedExecution entry(String id) {
    return QueuedExecution.of(
        id, "linux", "", 0, Duration.ZERO, ByteString.copyFromUtf8(id), Instant.now());
  }

  @Test
  void redisStoppedIsUnavailableAndRestartedServesAgainWithoutReopening() {
    Map<String, Object> settings = settings();
    try (BlobStore cas = RedisTestStores.blobStore(settings, Map.of());
        ActionCacheStore ac = RedisTestStores.actionCacheStore(settings, Map.of())) {
      Digest blob = put(cas, new byte[] {1, 2, 3});
      Digest action = Digest.of(new byte[] {9});
      ac.put(action, new byte[] {7});

      redis.stop();

      assertUnavailable(() -> cas.contains(blob));
      assertUnavailable(() -> cas.findMissing(List.of(blob)));
      assertUnavailable(() -> cas.read(blob, 0));
      assertUnavailable(() -> put(cas, new byte[] {4, 5}));
      assertUnavailable(() -> cas.stats());
      assertUnavailable(() -> ac.get(action));
      assertUnavailable(() -> ac.put(action, new byte[] {8}));

      // A fresh Redis without persistence: the data is gone, and the stores say so. Each store
      // has its own client, which reconnects on its own schedule: wait for both.
      redis.start();
      await()
          .atMost(Duration.ofSeconds(60))
          .ignoreException(HearthException.class)
          .untilAsserted(() -> assertThat(cas.contains(blob)).isFalse());
      await()
          .atMost(Duration.ofSeconds(60))
          .ignoreException(HearthException.class)
          .untilAsserted(() -> assertThat(ac.get(action)).isEmpty());
      Digest again = put(cas, new byte[] {1, 2, 3});
      assertThat(cas.contains(again)).isTrue();
      ac.put(action, new byte[] {8});
      assertThat(ac.get(action)).hasValue(new byte[] {8});
    }
  }

  @Test
  void healthNamesRedisWhileItIsDownAndRecoversWithoutReopening() {
    Map<String, Object> settings = settings();
    try (BlobStore cas = RedisTestStores.blobStore(settings, Map.of());
        ActionCacheStore ac = RedisTestStores.actionCacheStore(settings, Map.of())) {
      await().atMost(Duration.ofSeconds(30)).until(() -> cas.health().isHealthy());
      assertThat(ac.health().isHealthy()).as("%s", ac.health()).isTrue();

      redis.stop();

      for (StoreHealthSource store : List.<StoreHealthSource>of(cas::health, ac::health)) {
        await()
            .atMost(Duration.ofSeconds(30))
            .untilAsserted(
                () ->
                    assertThat(store.health().problem())
                        .hasValueSatisfying(
                            problem ->
                                assertThat(problem)
                                    .contains("Redis at redis://127.0.0.1:" + redis.port())
                                    .contains("does not answer")
                                    .contains("check that Redis runs")));
      }
      assertThat(cas.health().problem().orElseThrow()).startsWith("blobStores.cas: ");

      redis.start();
      await().atMost(Duration.ofSeconds(60)).until(() -> cas.health().isHealthy());
      await().atMost(Duration.ofSeconds(60)).until(() -> ac.health().isHealthy());
    }
  }

  @Test
  void aFrozenRedisIsUnhealthyWithoutTheHealthCheckWaitingForIt() {
    try (BlobStore cas = RedisTestStores.blobStore(settings("commandTimeout", "2s"), Map.of())) {
      await().atMost(Duration.ofSeconds(30)).until(() -> cas.health().isHealthy());

      redis.pause();
      try {
        await()
            .atMost(Duration.ofSeconds(30))
            .untilAsserted(
                () ->
                    assertThat(cas.health().problem())
                        .hasValueSatisfying(
                            problem ->
                                assertThat(problem)
                                    .contains("redis://127.0.0.1:" + redis.port())
                                    .contains("no answer within the health check's timeout")));
      } finally {
        redis.resume();
      }
      await().atMost(Duration.ofSeconds(60)).until(() -> cas.health().isHealthy());
    }
  }

  /** A store's health, whichever kind of store. */
  private interface StoreHealthSource {
    build.hearth.spi.storage.StoreHealth health();
  }

  @Test
  void aRedisThatStopsAnsweringTimesOutAsUnavailable() {
    try (BlobStore cas = RedisTestStores.blobStore(settings("commandTimeout", "2s"), Map.of())) {
      Digest blob = put(cas, new byte[] {1, 2, 3});

      redis.pause();
      try {
        assertThatThrownBy(() -> cas.contains(blob))
            .isInstanceOfSatisfying(
                HearthException.class, e -> assertThat(e.code()).isEqualTo(StatusCode.UNAVAILABLE))
            .hasMessageContaining("redis://127.0.0.1:" + redis.port())
            .hasMessageContaining("\"commandTimeout\" (2000 ms)");
      } finally {
        redis.resume();
      }

      await()
          .atMost(Duration.ofSeconds(60))
          .ignoreException(HearthException.class)
          .untilAsserted(() -> assertThat(cas.contains(blob)).isTrue());
    }
  }

  @Test
  void aStoreOpenedWhileRedisIsDownIsRefusedNamingTheAddress() {
    Map<String, Object> settings = settings();
    redis.stop();

    assertThatThrownBy(() -> RedisTestStores.blobStore(settings, Map.of()))
        .isInstanceOfSatisfying(
            HearthException.class, e -> assertThat(e.code()).isEqualTo(StatusCode.UNAVAILABLE))
        .hasMessageContaining(
            "blobStores.cas: cannot connect to Redis at redis://127.0.0.1:" + redis.port());
  }

  @Test
  void theSchedulerStateIsUnavailableWhileRedisIsDownAndServesAgainWithoutReopening()
      throws Exception {
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

      assertUnavailable(() -> state.enqueue(entry("during"), 100), STATE);
      assertUnavailable(
          () -> state.claim(List.of("linux"), "w1", "s1", Instant.now(), Duration.ZERO), STATE);
      assertUnavailable(() -> state.queues(), STATE);
      assertUnavailable(() -> state.execution("before"), STATE);
      assertUnavailable(() -> state.lapsed(Instant.now(), 10), STATE);

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
