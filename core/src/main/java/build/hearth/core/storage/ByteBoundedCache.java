package build.hearth.core.storage;

import build.hearth.api.Digest;
import build.hearth.spi.storage.StoreStats;
import java.util.Collection;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Byte arrays by digest, bounded by their total length, evicting the least recently used first.
 * Shared by the memory blob and action-cache stores.
 *
 * <p>Every write is admitted: a value no larger than the capacity is present when {@link #put} or
 * {@link #putIfAbsent} returns, and older entries make room for it. A store that serves as a CAS
 * needs that, since a client calls Execute right after its uploads succeed; a frequency-based
 * admission policy may refuse a newcomer and make a just-acknowledged blob absent.
 *
 * <p>The arrays are held by reference and never copied here, so the lock covers only pointer work
 * and a few counters; callers copy, if they must, outside it. The lock is one for the whole cache
 * because every read reorders the recency list; each critical section is a hash lookup and a
 * constant number of link updates, plus the evictions a write causes.
 *
 * <p>Each entry counts against the capacity as its length plus a per-entry overhead (by default
 * {@value #ENTRY_OVERHEAD_BYTES} bytes), what it costs the heap besides its content (the map's
 * node, the key, the array's header), so that a flood of tiny values is bounded by the capacity
 * too. {@link StoreStats#sizeBytes()} still reports the values' lengths.
 *
 * <p>Thread-safe.
 */
final class ByteBoundedCache {
  /**
   * The heap one entry costs besides its content, rounded up from a measurement (about 200 bytes
   * for a SHA-256 digest key and a 1-byte value on a 64-bit JVM with compressed pointers: the map
   * node, the table slot, the {@link Digest} and its hash string, the array's header; see {@code
   * MemoryBlobStoreTest#tinyBlobsAreBoundedByMaxSize}).
   */
  static final long ENTRY_OVERHEAD_BYTES = 256;

  private final long capacityBytes;
  private final long entryOverheadBytes;
  private final ReentrantLock lock = new ReentrantLock();
  // Access order: iteration starts at the least recently used key. Guarded by lock, as are the
  // counters below.
  private final LinkedHashMap<Digest, byte[]> entries = new LinkedHashMap<>(64, 0.75f, true);
  private long sizeBytes;
  // The entries' charges (length plus overhead): what the capacity bounds.
  private long chargedBytes;
  private long evictions;
  private long evictedBytes;

  /** A cache that counts only the values' lengths. */
  ByteBoundedCache(long capacityBytes) {
    this(capacityBytes, 0);
  }

  /** A cache that counts each value's length plus {@code entryOverheadBytes}. */
  ByteBoundedCache(long capacityBytes, long entryOverheadBytes) {
    if (capacityBytes <= 0) {
      throw new IllegalArgumentException("capacityBytes must be positive: " + capacityBytes);
    }
    if (entryOverheadBytes < 0) {
      throw new IllegalArgumentException(
          "entryOverheadBytes must not be negative: " + entryOverheadBytes);
    }
    this.capacityBytes = capacityBytes;
    this.entryOverheadBytes = entryOverheadBytes;
  }

  long capacityBytes() {
    return capacityBytes;
  }

  /** The bytes that count against the capacity: each entry's length plus its overhead. */
  long chargedBytes() {
    lock.lock();
    try {
      return chargedBytes;
    } finally {
      lock.unlock();
    }
  }

  /** What an entry of {@code length} bytes counts; at most the capacity, so it always fits. */
  private long chargeOf(long length) {
    return Math.min(capacityBytes, length + entryOverheadBytes);
  }

  private void forgetLocked(byte[] value) {
    sizeBytes -= value.length;
    chargedBytes -= chargeOf(value.length);
  }

  /** The value, counting as a use; null if absent. */
  byte[] get(Digest key) {
    lock.lock();
    try {
      return entries.get(key);
    } finally {
      lock.unlock();
    }
  }

  /** The keys among {@code keys} that are absent; each present one counts as used. */
  Set<Digest> absentAmong(Collection<Digest> keys) {
    Set<Digest> absent = new HashSet<>();
    lock.lock();
    try {
      for (Digest key : keys) {
        if (entries.get(key) == null) {
          absent.add(key);
        }
      }
    } finally {
      lock.unlock();
    }
    return absent;
  }

  /**
   * Stores {@code value} unless the key is present, in which case the present value is kept and
   * counts as used. Either way the key is the most recently used when this returns.
   *
   * @throws IllegalArgumentException if {@code value} is larger than the capacity
   */
  void putIfAbsent(Digest key, byte[] value) {
    checkFits(value);
    lock.lock();
    try {
      if (entries.get(key) == null) {
        insertLocked(key, value);
      }
    } finally {
      lock.unlock();
    }
  }

  /**
   * Stores {@code value} as the most recently used, replacing any earlier one.
   *
   * @throws IllegalArgumentException if {@code value} is larger than the capacity
   */
  void put(Digest key, byte[] value) {
    checkFits(value);
    lock.lock();
    try {
      byte[] previous = entries.remove(key);
      if (previous != null) {
        forgetLocked(previous);
      }
      insertLocked(key, value);
    } finally {
      lock.unlock();
    }
  }

  /** Forgets {@code key}; not counted as an eviction. */
  void remove(Digest key) {
    lock.lock();
    try {
      byte[] previous = entries.remove(key);
      if (previous != null) {
        forgetLocked(previous);
      }
    } finally {
      lock.unlock();
    }
  }

  StoreStats stats() {
    lock.lock();
    try {
      return new StoreStats(entries.size(), sizeBytes, capacityBytes, evictions, evictedBytes);
    } finally {
      lock.unlock();
    }
  }

  /** Forgets every entry; not counted as evictions. */
  void clear() {
    lock.lock();
    try {
      entries.clear();
      sizeBytes = 0;
      chargedBytes = 0;
    } finally {
      lock.unlock();
    }
  }

  private void checkFits(byte[] value) {
    if (value.length > capacityBytes) {
      throw new IllegalArgumentException(
          "value of " + value.length + " bytes exceeds the capacity of " + capacityBytes);
    }
  }

  private void insertLocked(Digest key, byte[] value) {
    entries.put(key, value);
    sizeBytes += value.length;
    chargedBytes += chargeOf(value.length);
    // The new entry is the last in iteration order and fits on its own, so the loop stops before
    // it: what goes is always older.
    Iterator<Map.Entry<Digest, byte[]>> it = entries.entrySet().iterator();
    while (chargedBytes > capacityBytes) {
      Map.Entry<Digest, byte[]> oldest = it.next();
      it.remove();
      long size = oldest.getValue().length;
      forgetLocked(oldest.getValue());
      evictions++;
      evictedBytes += size;
    }
  }
}
