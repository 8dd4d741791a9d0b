package build.hearth.redis;

import static org.assertj.core.api.Assertions.assertThat;

import build.hearth.api.Digest;
import build.hearth.redis.testing.RedisServer;
import build.hearth.spi.storage.BlobStore;
import build.hearth.spi.storage.StoreSettings;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Eviction is two steps in two slots: the index gives up its victims, then their keys are deleted.
 * A server that re-uploads the evicted blob between the two steps must keep it: the deletion takes
 * only the generation that was evicted. This test puts the re-upload exactly there.
 */
class RedisEvictionRaceTest {
  @TempDir static Path dir;
  static RedisServer redis;

  @BeforeAll
  static void start() {
    redis = RedisServer.start(dir);
  }

  @AfterAll
  static void stop() {
    redis.close();
  }

  private static Digest put(BlobStore store, byte[] content) {
    Digest digest = Digest.of(content);
    try (BlobStore.Upload upload = store.startUpload(digest)) {
      upload.write(content, 0, content.length);
      upload.commit();
    }
    return digest;
  }

  @Test
  void aBlobReuploadedBetweenItsEvictionAndTheDeletionOfItsKeysStays() {
    String prefix = RedisTestStores.freshPrefix();
    byte[] content = new byte[3 * 4096 + 5];
    new Random(3).nextBytes(content);
    Map<String, Object> connection = RedisTestStores.standalone(redis.uri());
    try (BlobStore store =
            RedisTestStores.blobStore(
                connection, Map.of("keyPrefix", prefix, "chunkSize", "4KiB"));
        RedisConnection other =
            RedisConnection.open(
                RedisConnectionSettings.from(StoreSettings.of("other", connection)), "other")) {
      Digest blob = put(store, content);
      // Another server, with a smaller maxSize, evicts the blob from the shared index...
      List<LruIndex.Victim> victims =
          new LruIndex(other, prefix + "cas:", 1, Clock.systemUTC()).evictToCapacity();
      assertThat(victims)
          .extracting(LruIndex.Victim::member)
          .containsExactly(LruIndex.member(blob));
      assertThat(store.contains(blob)).as("out of the index: absent").isFalse();

      // ... this server uploads it again before the other deletes the evicted keys ...
      put(store, content);
      ((RedisBlobStore) store).deleteVictims(victims);

      // ... and the new upload stays, counted and whole.
      assertThat(store.contains(blob)).isTrue();
      assertThat(store.read(blob, 0)).isPresent();
      assertThat(store.stats().entries()).isEqualTo(1);
      assertThat(store.stats().sizeBytes()).isEqualTo(content.length);
    }
  }
}
