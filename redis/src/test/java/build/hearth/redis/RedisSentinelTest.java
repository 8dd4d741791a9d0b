package build.hearth.redis;

import static org.assertj.core.api.Assertions.assertThat;

import build.hearth.api.Digest;
import build.hearth.redis.testing.RedisServer;
import build.hearth.spi.storage.ActionCacheStore;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code sentinel} topology: the store asks a real Redis Sentinel for the master. */
class RedisSentinelTest {
  @TempDir Path dir;

  @Test
  void theStoreFindsTheMasterThroughSentinel() {
    try (RedisServer master = RedisServer.start(dir.resolve("master"));
        RedisServer sentinel = RedisServer.startSentinel(dir.resolve("sentinel"), "main", master)) {
      Map<String, Object> connection =
          Map.of("sentinel", Map.of("masterName", "main", "nodes", List.of(sentinel.uri())));
      String prefix = RedisTestStores.freshPrefix();
      try (ActionCacheStore store =
          RedisTestStores.actionCacheStore(connection, Map.of("keyPrefix", prefix))) {
        Digest action = Digest.of(new byte[] {42});
        store.put(action, new byte[] {1, 2});
        assertThat(store.get(action)).hasValue(new byte[] {1, 2});
      }
      // The entry is on the master Sentinel named.
      String key = prefix + "ac:{" + Digest.of(new byte[] {42}).hash() + "-1}";
      assertThat(master.cli("EXISTS", key)).isEqualTo("1");
    }
  }
}
