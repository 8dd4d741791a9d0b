package build.hearth.core.storage;

import build.hearth.spi.storage.StoreStats;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.LongUnaryOperator;

/**
 * The bookkeeping of a store that keeps one file per key: which keys are present, their sizes,
 * their order of last use, and the eviction counters. Shared by the filesystem blob and
 * action-cache stores.
 *
 * <p>The lock is never held across file I/O. Instead, a caller that is about to create, replace or
 * delete a key's file first {@link #claim claims} the key, does the I/O without the lock, updates
 * the index, and {@link #release releases} it. Claims make those file operations exclusive per key,
 * which is what keeps the index and the files in step: an eviction never deletes a file that a
 * concurrent commit has just renamed into place, and a commit never registers a file that an
 * eviction is deleting. Eviction skips claimed keys, and victims come back claimed, so their files
 * are deleted by the caller (see {@link #dispose}) with the lock released.
 *
 * <p>What counts against the capacity is each entry's <em>charge</em>, not its size: a store
 * charges what an entry really costs it (a file system's block per file, say), so that a flood of
 * tiny entries is bounded by the capacity too, and {@link StoreStats#sizeBytes()} still reports the
 * entries' sizes. Bytes {@link #reserve reserved} for writes in progress count as well: an upload
 * takes its room as its bytes arrive, evicting older entries, and hands it over to its entry when
 * it commits.
 *
 * <p>Heap: about {@value #HEAP_BYTES_PER_ENTRY} bytes per entry besides the key (measured with
 * 200,000 entries, see {@code LruIndexTest}); a blob store's key, a hash string, adds about 100.
 *
 * <p>Thread-safe.
 */
final class LruIndex<K> {
  /**
   * The heap one entry costs the index, not counting its key: a {@link LinkedHashMap} node, an
   * {@link Entry} and the table slot, rounded up.
   */
  static final long HEAP_BYTES_PER_ENTRY = 96;

  /**
   * How stale a key's recorded use may get before a use asks the caller to refresh the file's
   * modification time. The order survives restarts only to this precision, which keeps lookups free
   * of I/O almost always.
   */
  static final long TOUCH_INTERVAL_MILLIS = 60_000;

  private final long capacityBytes;
  private final LongUnaryOperator charge;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition claimReleased = lock.newCondition();
  // Access order: iteration starts at the least recently used key.
  private final LinkedHashMap<K, Entry> entries = new LinkedHashMap<>(64, 0.75f, true);
  private final Set<K> claimed = new HashSet<>();
  private long sizeBytes;
  // The charges of the entries plus the reservations: what the capacity bounds.
  private long chargedBytes;
  private long reservedBytes;
  private long evictions;
  private long evictedBytes;

  /** An index that charges each entry its size. */
  LruIndex(long capacityBytes) {
    this(capacityBytes, LongUnaryOperator.identity());
  }

  /**
   * An index that charges each entry {@code charge} of its size, which must be at least the size
   * and at most the capacity for a size no larger than the capacity (so a single entry always
   * fits).
   */
  LruIndex(long capacityBytes, LongUnaryOperator charge) {
    if (capacityBytes <= 0) {
      throw new IllegalArgumentException("capacityBytes must be positive: " + capacityBytes);
    }
    this.capacityBytes = capacityBytes;
    this.charge = charge;
  }

  /**
   * The charge of an entry of {@code size} bytes in a store whose files take whole blocks of {@code
   * blockBytes}: its size rounded up to a block, at least one block (an empty file still takes an
   * inode and a directory entry), and at most {@code capacityBytes}, so that an entry the capacity
   * holds is always admitted.
   */
  static long blockCharge(long size, long blockBytes, long capacityBytes) {
    long blocks = (size + blockBytes - 1) / blockBytes;
    if (blockBytes > 1) {
      blocks = Math.max(1, blocks);
    }
    return Math.min(capacityBytes, Math.max(size, blocks * blockBytes));
  }

  /** What an entry of {@code size} bytes counts against the capacity. */
  long chargeOf(long size) {
    return charge.applyAsLong(size);
  }

  /**
   * The outcome of a use.
   *
   * @param size the key's recorded size
   * @param touchFile whether the caller should set the file's modification time to now
   */
  record Use(long size, boolean touchFile) {}

  /** A key taken out of the index to make room; it is claimed until {@link #dispose} ends. */
  record Victim<K>(K key, long size) {}

  /** A key found on disk when a store opens. */
  record Found<K>(K key, long size, long modifiedMillis) {}

  /** Records a use of {@code key} at {@code nowMillis}; null if it is absent. */
  Use use(K key, long nowMillis) {
    lock.lock();
    try {
      return useLocked(key, nowMillis);
    } finally {
      lock.unlock();
    }
  }

  /**
   * Like {@link #use} for each key, under one acquisition of the lock; null marks an absent key.
   */
  List<Use> useAll(Collection<K> keys, long nowMillis) {
    List<Use> uses = new ArrayList<>(keys.size());
    lock.lock();
    try {
      for (K key : keys) {
        uses.add(useLocked(key, nowMillis));
      }
    } finally {
      lock.unlock();
    }
    return uses;
  }

  private Use useLocked(K key, long nowMillis) {
    Entry entry = entries.get(key);
    if (entry == null) {
      return null;
    }
    boolean touch = nowMillis - entry.touchedMillis >= TOUCH_INTERVAL_MILLIS;
    if (touch) {
      entry.touchedMillis = nowMillis;
    }
    return new Use(entry.size, touch);
  }

  /**
   * Waits until no one else has claimed {@code key}, then claims it. The caller must {@link
   * #release} it, in a finally block.
   */
  void claim(K key) {
    lock.lock();
    try {
      while (claimed.contains(key)) {
        // Claims are held for one rename or delete, so waits are short; an interrupt is kept for
        // the caller rather than leaving a half-done file operation.
        claimReleased.awaitUninterruptibly();
      }
      claimed.add(key);
    } finally {
      lock.unlock();
    }
  }

  /**
   * Releases a claim and returns the keys to evict if the index is over capacity. The caller
   * deletes their files through {@link #dispose}.
   */
  List<Victim<K>> release(K key) {
    lock.lock();
    try {
      if (!claimed.remove(key)) {
        throw new IllegalStateException("not claimed: " + key);
      }
      claimReleased.signalAll();
      return collectVictimsLocked();
    } finally {
      lock.unlock();
    }
  }

  /**
   * Records {@code key} as present with {@code size} bytes and makes it the most recently used,
   * replacing an earlier record. The caller holds the claim on {@code key}, so this never evicts
   * it; eviction happens on {@link #release}.
   */
  void put(K key, long size, long nowMillis) {
    put(key, size, nowMillis, 0);
  }

  /**
   * As {@link #put(Object, long, long)}, and in the same step gives back {@code reserved} bytes of
   * a {@link #reserve reservation}: the upload's room becomes its entry's.
   */
  void put(K key, long size, long nowMillis, long reserved) {
    lock.lock();
    try {
      checkClaimedLocked(key);
      unreserveLocked(reserved);
      Entry previous = entries.remove(key);
      if (previous != null) {
        forgetLocked(previous);
      }
      entries.put(key, new Entry(size, nowMillis));
      sizeBytes += size;
      chargedBytes += charge.applyAsLong(size);
    } finally {
      lock.unlock();
    }
  }

  /**
   * Reserves {@code bytes} of the capacity for a write in progress, evicting unclaimed entries,
   * least recently used first, to make room. Returns the victims, which the caller disposes of with
   * {@link #dispose}, or null, reserving and evicting nothing, when even evicting every unclaimed
   * entry would not make room (the rest is reserved or claimed by writes in progress).
   */
  List<Victim<K>> reserve(long bytes) {
    if (bytes < 0) {
      throw new IllegalArgumentException("bytes must not be negative: " + bytes);
    }
    lock.lock();
    try {
      long over = chargedBytes + reservedBytes + bytes - capacityBytes;
      if (over > 0 && over > evictableLocked()) {
        return null;
      }
      reservedBytes += bytes;
      return collectVictimsLocked();
    } finally {
      lock.unlock();
    }
  }

  /** Gives back {@code bytes} of a reservation: its write ended without an entry. */
  void unreserve(long bytes) {
    lock.lock();
    try {
      unreserveLocked(bytes);
    } finally {
      lock.unlock();
    }
  }

  /** The bytes that count against the capacity: the entries' charges plus the reservations. */
  long chargedBytes() {
    lock.lock();
    try {
      return chargedBytes + reservedBytes;
    } finally {
      lock.unlock();
    }
  }

  /** The bytes reserved by writes in progress. */
  long reservedBytes() {
    lock.lock();
    try {
      return reservedBytes;
    } finally {
      lock.unlock();
    }
  }

  private void unreserveLocked(long bytes) {
    if (bytes < 0 || bytes > reservedBytes) {
      throw new IllegalStateException(
          "giving back " + bytes + " bytes of a reservation of " + reservedBytes);
    }
    reservedBytes -= bytes;
  }

  /** The charges of the entries that eviction may take: those nobody has claimed. */
  private long evictableLocked() {
    long pinned = 0;
    for (K key : claimed) {
      Entry entry = entries.get(key);
      if (entry != null) {
        pinned += charge.applyAsLong(entry.size);
      }
    }
    return chargedBytes - pinned;
  }

  private void forgetLocked(Entry entry) {
    sizeBytes -= entry.size;
    chargedBytes -= charge.applyAsLong(entry.size);
  }

  /** Forgets {@code key}, which the caller has claimed; not counted as an eviction. */
  boolean remove(K key) {
    lock.lock();
    try {
      checkClaimedLocked(key);
      Entry previous = entries.remove(key);
      if (previous == null) {
        return false;
      }
      forgetLocked(previous);
      return true;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Fills the index with what a store found on disk, oldest modification first, and returns what
   * must be evicted to fit the capacity. For opening only, before the store is shared.
   */
  List<Victim<K>> load(List<Found<K>> found) {
    List<Found<K>> byAge = new ArrayList<>(found);
    byAge.sort(Comparator.comparingLong(Found::modifiedMillis));
    lock.lock();
    try {
      for (Found<K> f : byAge) {
        Entry previous = entries.put(f.key(), new Entry(f.size(), f.modifiedMillis()));
        if (previous != null) {
          forgetLocked(previous);
        }
        sizeBytes += f.size();
        chargedBytes += charge.applyAsLong(f.size());
      }
      return collectVictimsLocked();
    } finally {
      lock.unlock();
    }
  }

  /**
   * Runs {@code deleteFile} for each victim, without the lock, then releases it; repeats for any
   * further victims the releases produce. {@code deleteFile} handles its own I/O errors.
   */
  void dispose(List<Victim<K>> victims, Consumer<Victim<K>> deleteFile) {
    ArrayDeque<Victim<K>> pending = new ArrayDeque<>(victims);
    RuntimeException failure = null;
    while (!pending.isEmpty()) {
      Victim<K> victim = pending.poll();
      K key = victim.key();
      try {
        deleteFile.accept(victim);
      } catch (RuntimeException e) {
        // Keep going: a victim left claimed would block every later claim of its key.
        if (failure == null) {
          failure = e;
        }
      } finally {
        pending.addAll(release(key));
      }
    }
    if (failure != null) {
      throw failure;
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

  private List<Victim<K>> collectVictimsLocked() {
    if (chargedBytes + reservedBytes <= capacityBytes) {
      return List.of();
    }
    List<Victim<K>> victims = new ArrayList<>();
    Iterator<Map.Entry<K, Entry>> it = entries.entrySet().iterator();
    while (chargedBytes + reservedBytes > capacityBytes && it.hasNext()) {
      Map.Entry<K, Entry> e = it.next();
      // A claimed key is being committed or replaced right now; the release that ends that claim
      // evicts again, so skipping it here only delays the accounting, never loses it.
      if (claimed.contains(e.getKey())) {
        continue;
      }
      it.remove();
      long size = e.getValue().size;
      forgetLocked(e.getValue());
      evictions++;
      evictedBytes += size;
      claimed.add(e.getKey());
      victims.add(new Victim<>(e.getKey(), size));
    }
    return victims;
  }

  private void checkClaimedLocked(K key) {
    if (!claimed.contains(key)) {
      throw new IllegalStateException("changing an unclaimed key: " + key);
    }
  }

  private static final class Entry {
    final long size;
    long touchedMillis;

    Entry(long size, long touchedMillis) {
      this.size = size;
      this.touchedMillis = touchedMillis;
    }
  }
}
