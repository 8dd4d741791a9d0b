package build.hearth.redis;

import build.hearth.redis.testing.RedisServer;
import build.hearth.spi.storage.ActionCacheStore;
import build.hearth.testing.ActionCacheStoreContractTest;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/** The action-cache suite against one real redis-server; each store gets keys of its own. */
class RedisActionCacheStoreTest extends ActionCacheStoreContractTest {
  @TempDir static Path dir;
  static RedisServer redis;

  private String prefix;

  @BeforeAll
  static void startRedis() {
    redis = RedisServer.start(dir);
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
        RedisTestStores.standalone(redis.uri()),
        Map.of("keyPrefix", prefix, "maxSize", capacityBytes));
  }

  @Override
  protected boolean survivesReopen() {
    return true;
  }
}
