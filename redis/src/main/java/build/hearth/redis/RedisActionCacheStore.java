package build.hearth.redis;

import static build.hearth.redis.RedisScript.bytes;

import build.hearth.api.Digest;
import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import build.hearth.spi.storage.ActionCacheStore;
import build.hearth.spi.storage.StoreHealth;
import build.hearth.spi.storage.StoreStats;
import io.lettuce.core.ScriptOutputType;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * An action cache in Redis: one key per action digest, {@code <prefix>ac:{hash-size}}, a hash with
 * the entry ({@code d}) and the generation of the put that wrote it ({@code g}). A put replaces
 * both fields in one command, so readers see the old entry or the new one. Accounting and LRU
 * eviction to {@code maxSize} live in an {@link LruIndex}, as for the blob store.
 *
 * <p>Thread-safe; no lock, every wait is for Redis.
 */
final class RedisActionCacheStore implements ActionCacheStore {
  private static final RedisScript DELETE = RedisScript.load("delete-if-generation");
  private static final RedisScript GET = RedisScript.load("ac-get");

  private final RedisConnection redis;
  private final RedisStoreSettings settings;
  private final String prefix;
  private final LruIndex index;
  private final AtomicBoolean closed = new AtomicBoolean();

  RedisActionCacheStore(RedisConnection redis, RedisStoreSettings settings, Clock clock) {
    this.redis = redis;
    this.settings = settings;
    this.prefix = settings.keyPrefix() + "ac:";
    this.index = new LruIndex(redis, prefix, settings.maxSize(), clock);
    deleteVictims(index.evictToCapacity());
  }

  private byte[] key(String member) {
    return bytes(prefix + "{" + member + "}");
  }

  @Override
  public Optional<byte[]> get(Digest actionDigest) {
    checkOpen();
    String member = LruIndex.member(actionDigest);
    byte[] key = key(member);
    // The TTL's refresh is folded into the read; the use is sent but not awaited (later commands
    // on this connection, such as an eviction's, reach Redis after it anyway).
    CompletableFuture<byte[]> entry =
        settings.ttl().isZero()
            ? redis.commands().hget(key, bytes("d")).toCompletableFuture()
            : GET.run(
                redis.commands(),
                ScriptOutputType.VALUE,
                new byte[][] {key},
                bytes(settings.ttl().toMillis()));
    index.touch(List.of(member));
    return Optional.ofNullable(redis.await("reading an action result", entry));
  }

  @Override
  public void put(Digest actionDigest, byte[] entry) {
    checkOpen();
    String member = LruIndex.member(actionDigest);
    byte[] key = key(member);
    String generation = Long.toHexString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE);
    CompletableFuture<Long> write =
        redis
            .commands()
            .hset(key, java.util.Map.of(bytes("g"), bytes(generation), bytes("d"), entry.clone()))
            .toCompletableFuture();
    CompletableFuture<Boolean> expiry = expire(key);
    redis.await("storing an action result", write);
    redis.await("storing an action result", expiry);
    deleteVictims(index.add(member, generation, entry.length));
  }

  @Override
  public void remove(Digest actionDigest) {
    checkOpen();
    String member = LruIndex.member(actionDigest);
    redis.await(
        "removing an action result", redis.commands().del(key(member)).toCompletableFuture());
    index.remove(member);
  }

  @Override
  public StoreStats stats() {
    return index.stats();
  }

  /** {@return unavailable, naming Redis's address and the error, while Redis does not answer} */
  @Override
  public StoreHealth health() {
    if (closed.get()) {
      return StoreHealth.unavailable(
          redis.settings().path() + ": the redis action-cache store is closed");
    }
    return redis.problem().map(StoreHealth::unavailable).orElse(StoreHealth.healthy());
  }

  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      redis.close();
    }
  }

  private void checkOpen() {
    if (closed.get()) {
      throw new HearthException(
          StatusCode.UNAVAILABLE,
          redis.settings().path() + ": the redis action-cache store is closed");
    }
  }

  /** Sends (without waiting) the entry's expiry {@code ttl} from now; nothing without a TTL. */
  private CompletableFuture<Boolean> expire(byte[] key) {
    return settings.ttl().isZero()
        ? CompletableFuture.completedFuture(true)
        : redis.commands().pexpire(key, settings.ttl().toMillis()).toCompletableFuture();
  }

  private void deleteVictims(List<LruIndex.Victim> victims) {
    List<CompletableFuture<Long>> deletions = new ArrayList<>();
    for (LruIndex.Victim victim : victims) {
      String key = prefix + "{" + victim.member() + "}";
      deletions.add(
          DELETE.run(
              redis.commands(),
              ScriptOutputType.INTEGER,
              new byte[][] {bytes(key)},
              bytes(key),
              bytes(victim.generation()),
              bytes(0)));
    }
    for (CompletableFuture<Long> deletion : deletions) {
      redis.await("deleting evicted action results", deletion);
    }
  }
}
