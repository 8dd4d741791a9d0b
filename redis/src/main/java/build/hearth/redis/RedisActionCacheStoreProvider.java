package build.hearth.redis;

import build.hearth.spi.storage.ActionCacheStore;
import build.hearth.spi.storage.ActionCacheStoreProvider;
import build.hearth.spi.storage.StoreContext;

/**
 * The {@code redis} action-cache store: one key per action digest in a Redis server,
 * Sentinel-managed master or Redis Cluster, shared by every Hearth server configured with the same
 * Redis and {@code keyPrefix}.
 *
 * <p>Settings: the connection's ({@link RedisConnectionSettings}) and {@code keyPrefix} (default
 * {@code "hearth:"}), {@code maxSize} (default {@code "1GiB"}) and {@code ttl} (no expiry unless
 * set).
 *
 * <pre>{@code
 * "actionCacheStores": { "ac": { "type": "redis", "uri": "redis://localhost:6379" } }
 * }</pre>
 *
 * <p>Stateless and thread-safe; each {@link #create} opens an independent store with its own
 * client. A bad setting is a {@link build.hearth.api.ConfigException} naming the field; Redis
 * unreachable is a {@link build.hearth.api.HearthException} UNAVAILABLE naming the address.
 */
public final class RedisActionCacheStoreProvider extends ActionCacheStoreProvider {
  static final long DEFAULT_MAX_SIZE = 1L << 30;

  /** Called by {@link java.util.ServiceLoader}. */
  public RedisActionCacheStoreProvider() {}

  @Override
  public String type() {
    return "redis";
  }

  @Override
  public ActionCacheStore create(StoreContext context) {
    RedisStoreSettings store = RedisStoreSettings.from(context.settings(), DEFAULT_MAX_SIZE, false);
    RedisConnectionSettings connection = RedisConnectionSettings.from(context.settings());
    RedisConnection redis = RedisConnection.open(connection, context.settings().path());
    try {
      return new RedisActionCacheStore(redis, store, context.clock());
    } catch (RuntimeException e) {
      redis.close();
      throw e;
    }
  }
}
