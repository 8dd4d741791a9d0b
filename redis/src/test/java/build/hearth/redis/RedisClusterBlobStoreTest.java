package build.hearth.redis;

import build.hearth.redis.testing.RedisCluster;
import build.hearth.spi.storage.BlobStore;
import build.hearth.testing.BlobStoreContractTest;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/**
 * The blob-store suite against a real three-node Redis Cluster, with 16 KiB chunks so that most of
 * the suite's blobs are chunked. Each store gets keys of its own; a reopened store the same keys.
 */
class RedisClusterBlobStoreTest extends BlobStoreContractTest {
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
  protected BlobStore newStore(long capacityBytes) {
    prefix = RedisTestStores.freshPrefix();
    return reopen(capacityBytes);
  }

  @Override
  protected BlobStore reopen(long capacityBytes) {
    return RedisTestStores.blobStore(
        RedisTestStores.cluster(redis.uris()),
        Map.of("keyPrefix", prefix, "maxSize", capacityBytes, "chunkSize", "16KiB"));
  }

  @Override
  protected boolean survivesReopen() {
    return true;
  }
}
