package build.hearth.redis;

import build.hearth.redis.testing.RedisServer;
import build.hearth.spi.storage.BlobStore;
import build.hearth.testing.BlobStoreContractTest;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/**
 * The blob-store suite against one real redis-server, with 16 KiB chunks so that most of the
 * suite's blobs are chunked. Each store gets keys of its own; a reopened store the same keys.
 */
class RedisBlobStoreTest extends BlobStoreContractTest {
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
  protected BlobStore newStore(long capacityBytes) {
    prefix = RedisTestStores.freshPrefix();
    return reopen(capacityBytes);
  }

  @Override
  protected BlobStore reopen(long capacityBytes) {
    return RedisTestStores.blobStore(
        RedisTestStores.standalone(redis.uri()),
        Map.of("keyPrefix", prefix, "maxSize", capacityBytes, "chunkSize", "16KiB"));
  }

  @Override
  protected boolean survivesReopen() {
    return true;
  }
}
