/**
 * Hearth's Redis stores: the {@code redis} blob store and action-cache store, found by the host
 * through the providers below, and the Redis connection that later Redis-backed pieces reuse.
 */
module build.hearth.redis {
  requires transitive build.hearth.spi;
  requires lettuce.core;

  exports build.hearth.redis;

  provides build.hearth.spi.storage.BlobStoreProvider with
      build.hearth.redis.RedisBlobStoreProvider;
  provides build.hearth.spi.storage.ActionCacheStoreProvider with
      build.hearth.redis.RedisActionCacheStoreProvider;
}
