/**
 * Hearth's Redis stores: the {@code redis} blob store, action-cache store and scheduler state,
 * found by the host through the providers below, and the Redis connection they share.
 */
module build.hearth.redis {
  requires transitive build.hearth.spi;
  requires lettuce.core;
  requires org.slf4j;

  exports build.hearth.redis;

  provides build.hearth.spi.storage.BlobStoreProvider with
      build.hearth.redis.RedisBlobStoreProvider;
  provides build.hearth.spi.storage.ActionCacheStoreProvider with
      build.hearth.redis.RedisActionCacheStoreProvider;
  provides build.hearth.spi.scheduler.SchedulerStateProvider with
      build.hearth.redis.RedisSchedulerStateProvider;
}
