package build.hearth.redis;

import build.hearth.redis.testing.RedisCluster;
import build.hearth.spi.storage.ActionCacheStore;
import build.hearth.testing.ActionCacheStoreContractTest;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/**
 * The action-cache suite against a real three-node Redis Cluster; each store gets keys of its own.
 */
class RedisClusterActionCacheStoreTest extends ActionCacheStoreContractTest {
  @TempDir static Path dir;
  static RedisCluster redis;

  private String prefix;

  @BeforeAll
  static void startRedis() {
    redis = RedisCluster.start(dir);
  }

  @AfterAll
  static void stopRedis() {
    redis.close();
  }

  @Override
  protected ActionCacheStore newStore(long capacityBytes) {
    prefix = RedisTestStores.freshPrefix();
    return reopen(capacityBytes);
  }

  @Override
  protected ActionCacheStore reopen(long capacityBytes) {
    return RedisTestStores.actionCacheStore(
        RedisTestStores.cluster(redis.uris()),
        Map.of("keyPrefix", prefix, "maxSize", capacityBytes));
  }

  @Override
  protected boolean survivesReopen() {
    return true;
  }
}
