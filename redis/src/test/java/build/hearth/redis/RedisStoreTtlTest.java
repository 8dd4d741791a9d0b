package build.hearth.redis;

import static org.assertj.core.api.Assertions.assertThat;

import build.hearth.api.Digest;
import build.hearth.redis.testing.RedisServer;
import build.hearth.spi.storage.ActionCacheStore;
import build.hearth.spi.storage.BlobStore;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code ttl} setting, read off the keys with {@code PTTL}: every key of a blob or entry gets
 * it on write and again on use; without the setting, committed keys never expire.
 */
class RedisStoreTtlTest {
  private static final long HOUR_MS = 3_600_000;

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

  private static List<String> keys(String pattern) {
    String text = redis.cli("--scan", "--pattern", pattern);
    return text.isBlank()
        ? List.of()
        : Arrays.stream(text.split("\n")).filter(k -> !k.contains("index}")).sorted().toList();
  }

  private static long pttl(String key) {
    return Long.parseLong(redis.cli("PTTL", key));
  }

  private static Digest put(BlobStore store, int size) {
    byte[] content = new byte[size];
    new Random(size).nextBytes(content);
    Digest digest = Digest.of(content);
    try (BlobStore.Upload upload = store.startUpload(digest)) {
      upload.write(content, 0, content.length);
      upload.commit();
    }
    return digest;
  }

  @Test
  void blobKeysGetTheTtlOnWriteAndAgainOnUse() {
    String prefix = RedisTestStores.freshPrefix();
    try (BlobStore store =
        RedisTestStores.blobStore(
            RedisTestStores.standalone(redis.uri()),
            Map.of("keyPrefix", prefix, "ttl", "1h", "chunkSize", "4KiB"))) {
      Digest small = put(store, 1000);
      Digest large = put(store, 3 * 4096 + 1);

      List<String> blobKeys = keys(prefix + "cas:{*-*}*");
      assertThat(blobKeys).hasSize(1 + 1 + 4);
      for (String key : blobKeys) {
        assertThat(pttl(key)).as("PTTL %s", key).isBetween(1L, HOUR_MS);
      }

      // Shorten them by hand; a lookup and a read give them the full TTL again.
      for (String key : blobKeys) {
        redis.cli("PEXPIRE", key, "100000");
      }
      assertThat(store.findMissing(List.of(small, large))).isEmpty();
      for (String key : blobKeys) {
        assertThat(pttl(key)).as("PTTL %s after a lookup", key).isGreaterThan(100_000L);
      }
      redis.cli("PEXPIRE", blobKeys.get(0), "100000");
      assertThat(store.read(small, 0)).isPresent();
      assertThat(store.read(large, 0)).isPresent();
      assertThat(pttl(blobKeys.get(0))).isGreaterThan(100_000L);
    }
  }

  @Test
  void withoutTtlCommittedKeysNeverExpire() {
    String prefix = RedisTestStores.freshPrefix();
    try (BlobStore store =
        RedisTestStores.blobStore(
            RedisTestStores.standalone(redis.uri()),
            Map.of("keyPrefix", prefix, "chunkSize", "4KiB"))) {
      put(store, 3 * 4096 + 1);
      List<String> blobKeys = keys(prefix + "cas:{*-*}*");
      assertThat(blobKeys).hasSize(1 + 4);
      for (String key : blobKeys) {
        assertThat(pttl(key))
            .as("PTTL %s (chunks lose their pending TTL on commit)", key)
            .isEqualTo(-1L);
      }
    }
  }

  @Test
  void actionCacheEntriesGetTheTtlOnPutAndAgainOnGet() {
    String prefix = RedisTestStores.freshPrefix();
    try (ActionCacheStore store =
        RedisTestStores.actionCacheStore(
            RedisTestStores.standalone(redis.uri()), Map.of("keyPrefix", prefix, "ttl", "1h"))) {
      Digest action = Digest.of(new byte[] {1, 2, 3});
      store.put(action, new byte[] {4, 5});
      String key = prefix + "ac:{" + action.hash() + "-" + action.sizeBytes() + "}";
      assertThat(pttl(key)).isBetween(1L, HOUR_MS);

      redis.cli("PEXPIRE", key, "100000");
      assertThat(store.get(action)).hasValue(new byte[] {4, 5});
      assertThat(pttl(key)).isGreaterThan(100_000L);
    }
  }
}
