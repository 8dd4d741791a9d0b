package build.hearth.core.storage;

import build.hearth.api.Digest;
import build.hearth.spi.storage.StoreStats;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Policy;
import com.github.benmanes.caffeine.cache.RemovalCause;
import java.util.concurrent.atomic.LongAdder;

/**
 * Byte arrays by digest in a Caffeine cache bounded by their total length, with the eviction
 * counters that {@link StoreStats} reports. Shared by the memory blob and action-cache stores.
 *
 * <p>Caffeine's policy is W-TinyLFU, not strict LRU: a newcomer may be refused in favour of a
 * frequently used entry. That suits a memory cache, and the contract tests are told so.
 *
 * <p>Thread-safe.
 */
final class ByteBoundedCache {
  private final long capacityBytes;
  private final Cache<Digest, byte[]> cache;
  private final Policy.Eviction<Digest, byte[]> eviction;
  private final LongAdder evictions = new LongAdder();
  private final LongAdder evictedBytes = new LongAdder();

  ByteBoundedCache(long capacityBytes) {
    this.capacityBytes = capacityBytes;
    this.cache =
        Caffeine.newBuilder()
            .maximumWeight(capacityBytes)
            .weigher((Digest key, byte[] value) -> value.length)
            // Maintenance (and so eviction and the listener) runs on the writing thread, which
            // keeps the size within capacity whenever stats() looks, rather than eventually.
            .executor(Runnable::run)
            .removalListener(
                (Digest key, byte[] value, RemovalCause cause) -> {
                  if (cause == RemovalCause.SIZE && value != null) {
                    evictions.increment();
                    evictedBytes.add(value.length);
                  }
                })
            .build();
    this.eviction = cache.policy().eviction().orElseThrow();
  }

  long capacityBytes() {
    return capacityBytes;
  }

  /** The value, counting as a use; null if absent. */
  byte[] get(Digest key) {
    return cache.getIfPresent(key);
  }

  /** Stores {@code value} unless the key is present. */
  void putIfAbsent(Digest key, byte[] value) {
    cache.asMap().putIfAbsent(key, value);
  }

  /** Stores {@code value}, replacing any earlier one. */
  void put(Digest key, byte[] value) {
    cache.put(key, value);
  }

  void remove(Digest key) {
    cache.invalidate(key);
  }

  StoreStats stats() {
    // A write that found the maintenance lock taken leaves its bookkeeping pending; settle it.
    cache.cleanUp();
    return new StoreStats(
        cache.estimatedSize(),
        eviction.weightedSize().orElseThrow(),
        capacityBytes,
        evictions.sum(),
        evictedBytes.sum());
  }

  void clear() {
    cache.invalidateAll();
    cache.cleanUp();
  }
}
