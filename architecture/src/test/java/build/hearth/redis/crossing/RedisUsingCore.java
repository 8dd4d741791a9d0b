package build.hearth.redis.crossing;

/**
 * A deliberately crossed layer (redis reaching core), for LayeringCatchesCrossedLayersTest only.
 */
public final class RedisUsingCore {
  private RedisUsingCore() {}

  static Class<?> engine() {
    return build.hearth.core.Hearth.class;
  }
}
