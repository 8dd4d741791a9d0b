/**
 * Real Redis servers for tests: one {@code redis-server} per test class ({@link
 * build.hearth.redis.testing.RedisServer}) and a three-node Redis Cluster ({@link
 * build.hearth.redis.testing.RedisCluster}), published in hearth-redis's test-jar for the tests of
 * every Redis-backed piece.
 */
package build.hearth.redis.testing;
