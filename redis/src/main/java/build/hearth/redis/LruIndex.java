package build.hearth.redis;

import static build.hearth.redis.RedisScript.bytes;

import build.hearth.api.Digest;
import build.hearth.api.HearthException;
import build.hearth.spi.storage.StoreStats;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.ZAddArgs;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A store's accounting in Redis, shared by every server that uses the same keys: which blobs or
 * entries it holds, their sizes, their last use, and the generation of each (the upload or put that
 * last wrote it). The store evicts least recently used first, to its {@code maxSize}, with the
 * bookkeeping in one atomic script.
 *
 * <p>The index's keys share one hash tag (one Cluster slot) of their own; a blob's keys share
 * another. So eviction is two steps: the script takes the victims out of the index, then the store
 * deletes each victim's keys in the victim's slot, only if they still hold the evicted generation.
 * Presence is "in the index and whole": an upload that races with the eviction of the same blob at
 * worst leaves keys the index does not count, which are absent to lookups, never a counted blob
 * that is gone.
 *
 * <p>Uses are scores from the store's clock in microseconds (made strictly increasing within the
 * store), so uses by different servers order by time. Thread-safe.
 */
final class LruIndex {
  private static final RedisScript ADD = RedisScript.load("index-add");
  private static final RedisScript REMOVE = RedisScript.load("index-remove");

  /** A use this soon after the last one this process recorded is not recorded again. */
  static final long REUSE_MILLIS = 1_000;

  /** The most members whose last use is remembered; about 100 bytes each. */
  private static final int MAX_RECENT_USES = 100_000;

  private final RedisConnection redis;
  private final byte[][] keys;
  private final long capacity;
  private final Clock clock;
  private final AtomicLong lastUse = new AtomicLong();
  // When this process last recorded a use of a member; bounded by clearing it when it is full.
  private final Map<String, Long> recentUses = new ConcurrentHashMap<>();
  // What this process evicted; the index in Redis counts entries and bytes, not evictions.
  private final AtomicLong evictions = new AtomicLong();
  private final AtomicLong evictedBytes = new AtomicLong();

  /** A blob or entry taken out of the index by eviction, whose keys the store deletes. */
  record Victim(String member, String generation, long size) {}

  LruIndex(RedisConnection redis, String prefix, long capacity, Clock clock) {
    this.redis = redis;
    String tag = "{" + prefix + "index}";
    this.keys =
        new byte[][] {
          bytes(prefix + tag + ":lru"),
          bytes(prefix + tag + ":meta"),
          bytes(prefix + tag + ":totals")
        };
    this.capacity = capacity;
    this.clock = clock;
  }

  /** {@return the index member of {@code digest}: hash and size} */
  static String member(Digest digest) {
    return digest.hash() + "-" + digest.sizeBytes();
  }

  /** Records a write (new or replacing) and evicts to the capacity; returns the victims. */
  List<Victim> add(String member, String generation, long size) {
    List<Object> reply =
        redis.await(
            "updating the store's index",
            ADD.run(
                redis.commands(),
                ScriptOutputType.MULTI,
                keys,
                bytes(member),
                bytes(generation),
                bytes(size),
                bytes(nextUse()),
                bytes(capacity)));
    List<Victim> victims = new ArrayList<>();
    for (int i = 0; i + 2 < reply.size(); i += 3) {
      victims.add(
          new Victim(
              text(reply.get(i)), text(reply.get(i + 1)), Long.parseLong(text(reply.get(i + 2)))));
    }
    for (Victim victim : victims) {
      evictions.incrementAndGet();
      evictedBytes.addAndGet(victim.size());
    }
    return victims;
  }

  /** Evicts down to the capacity without adding anything (a store opened with a smaller size). */
  List<Victim> evictToCapacity() {
    return add("", "", 0);
  }

  /** Removes an entry; returns its size, or -1 if the index did not hold it. */
  long remove(String member) {
    Long size =
        redis.await(
            "updating the store's index",
            REMOVE.run(redis.commands(), ScriptOutputType.INTEGER, keys, bytes(member)));
    return size;
  }

  /**
   * Removes an entry whose keys Redis evicted or expired behind the store's back. Rare, so it
   * waits; a failure leaves the entry for the store's own eviction, which reaches it in time
   * (nothing uses it any more).
   */
  void forget(String member) {
    try {
      remove(member);
    } catch (HearthException e) {
      // Left to eviction.
    }
  }

  /** Sends a lookup of the members' scores (one command): null for those the index lacks. */
  CompletableFuture<List<Double>> scores(List<String> members) {
    byte[][] values = new byte[members.size()][];
    for (int i = 0; i < values.length; i++) {
      values[i] = bytes(members.get(i));
    }
    return redis.commands().zmscore(keys[0], values).toCompletableFuture();
  }

  /**
   * Sends (without waiting) a use of each member the index holds; absent ones stay absent. A member
   * this index recorded a use of less than {@link #REUSE_MILLIS} ago is left out: a build asks for
   * the same blobs over and over within seconds, and moving a member in the sorted set is most of
   * what a lookup costs Redis, while the eviction order it changes is that of the last second.
   */
  CompletableFuture<Long> touch(Collection<String> members) {
    long now = clock.millis();
    if (recentUses.size() > MAX_RECENT_USES) {
      recentUses.clear();
    }
    List<String> due = new ArrayList<>(members.size());
    for (String member : members) {
      Long last = recentUses.get(member);
      if (last == null || now - last >= REUSE_MILLIS || now < last) {
        recentUses.put(member, now);
        due.add(member);
      }
    }
    if (due.isEmpty()) {
      return CompletableFuture.completedFuture(0L);
    }
    double score = nextUse();
    Object[] scoresAndValues = new Object[due.size() * 2];
    int i = 0;
    for (String member : due) {
      scoresAndValues[i++] = score;
      scoresAndValues[i++] = bytes(member);
    }
    return redis
        .commands()
        .zadd(keys[0], ZAddArgs.Builder.xx().gt(), scoresAndValues)
        .toCompletableFuture();
  }

  /**
   * {@return the store's statistics: entries and bytes from the index, read in one round trip, the
   * capacity, and the evictions this process made}
   */
  StoreStats stats() {
    RedisClusterAsyncCommands<byte[], byte[]> c = redis.commands();
    CompletableFuture<Long> entries = c.zcard(keys[0]).toCompletableFuture();
    CompletableFuture<byte[]> bytes = c.hget(keys[2], bytes("bytes")).toCompletableFuture();
    long count = redis.await("reading the store's size", entries);
    byte[] total = redis.await("reading the store's size", bytes);
    return new StoreStats(
        count,
        total == null ? 0 : Long.parseLong(text(total)),
        capacity,
        evictions.get(),
        evictedBytes.get());
  }

  private long nextUse() {
    long now = clock.millis() * 1000;
    return lastUse.accumulateAndGet(now, (last, t) -> Math.max(last + 1, t));
  }

  private static String text(Object value) {
    return value instanceof byte[] b
        ? new String(b, StandardCharsets.UTF_8)
        : String.valueOf(value);
  }
}
