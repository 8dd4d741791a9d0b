package build.hearth.core.crossing.redis;

/**
 * A deliberately crossed layer (core naming a Redis class), for LayeringCatchesCrossedLayersTest.
 */
public final class CoreUsingRedis {
  private CoreUsingRedis() {}

  static Object store() {
    return new build.hearth.redis.RedisBlobStoreProvider();
  }
}
