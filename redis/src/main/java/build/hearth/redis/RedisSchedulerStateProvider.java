package build.hearth.redis;

import build.hearth.spi.scheduler.SchedulerState;
import build.hearth.spi.scheduler.SchedulerStateProvider;
import build.hearth.spi.storage.StoreContext;

/**
 * The {@code redis} scheduler state: the queue, claims, executions, operations and worker registry
 * of one scheduler in a Redis server, Sentinel-managed master or Redis Cluster, shared by every
 * Hearth server configured with the same Redis, {@code keyPrefix} and scheduler name.
 *
 * <p>Settings: the connection's ({@link RedisConnectionSettings}) and {@code keyPrefix} (default
 * {@code "hearth:"}).
 *
 * <pre>{@code
 * "schedulers": {
 *   "default": { "state": { "type": "redis", "uri": "redis://redis-state:6379" } }
 * }
 * }</pre>
 *
 * <p>This Redis holds what the service was asked to do: run it with {@code maxmemory-policy
 * noeviction} and persistence, apart from a cache Redis with {@code allkeys-lru}.
 */
public final class RedisSchedulerStateProvider extends SchedulerStateProvider {

  /** Called by {@link java.util.ServiceLoader}. */
  public RedisSchedulerStateProvider() {}

  @Override
  public String type() {
    return "redis";
  }

  @Override
  public SchedulerState create(StoreContext context) {
    String keyPrefix = RedisStoreSettings.keyPrefix(context.settings());
    RedisConnectionSettings connection = RedisConnectionSettings.from(context.settings());
    RedisConnection redis = RedisConnection.open(connection, context.settings().path());
    return new RedisSchedulerState(redis, keyPrefix, context.name());
  }
}
