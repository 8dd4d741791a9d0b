package build.hearth.redis;

import build.hearth.spi.storage.BlobStore;
import build.hearth.spi.storage.BlobStoreProvider;
import build.hearth.spi.storage.StoreContext;

/**
 * The {@code redis} blob store: a CAS in a Redis server, Sentinel-managed master or Redis Cluster,
 * shared by every Hearth server configured with the same Redis and {@code keyPrefix}. Blobs larger
 * than {@code chunkSize} are stored as chunks, written first, and a manifest, written last; a blob
 * any of whose keys Redis evicted is absent, never short.
 *
 * <p>Settings: the connection's ({@link RedisConnectionSettings}: {@code uri}, {@code sentinel} or
 * {@code cluster}; {@code user}, {@code passwordFile}, {@code caFile}, {@code connectTimeout},
 * {@code commandTimeout}) and {@code keyPrefix} (default {@code "hearth:"}), {@code maxSize}
 * (default {@code "10GiB"}), {@code chunkSize} (default {@code "1MiB"}), {@code ttl} (no expiry
 * unless set) and {@code readGrace} (default {@code "5m"}).
 *
 * <pre>{@code
 * "blobStores": { "cas": { "type": "redis", "uri": "redis://localhost:6379", "maxSize": "20GiB" } }
 * }</pre>
 *
 * <p>Stateless and thread-safe; each {@link #create} opens an independent store with its own
 * client. A bad setting is a {@link build.hearth.api.ConfigException} naming the field; Redis
 * unreachable is a {@link build.hearth.api.HearthException} UNAVAILABLE naming the address.
 */
public final class RedisBlobStoreProvider extends BlobStoreProvider {
  static final long DEFAULT_MAX_SIZE = 10L << 30;

  /** Called by {@link java.util.ServiceLoader}. */
  public RedisBlobStoreProvider() {}

  @Override
  public String type() {
    return "redis";
  }

  @Override
  public BlobStore create(StoreContext context) {
    RedisStoreSettings store = RedisStoreSettings.from(context.settings(), DEFAULT_MAX_SIZE, true);
    RedisConnectionSettings connection = RedisConnectionSettings.from(context.settings());
    RedisConnection redis = RedisConnection.open(connection, context.settings().path());
    try {
      return new RedisBlobStore(redis, store, context.clock());
    } catch (RuntimeException e) {
      redis.close();
      throw e;
    }
  }
}
