/**
 * The {@code redis} blob store and action-cache store, a plugin on hearth-api and hearth-spi with
 * Lettuce as the client, and the connection settings and client ({@link
 * build.hearth.redis.RedisConnectionSettings}, {@link build.hearth.redis.RedisConnection}) that
 * every Redis-backed piece of Hearth shares. Only the providers and the connection types are
 * public; the stores are reached through the SPI's interfaces.
 */
package build.hearth.redis;
