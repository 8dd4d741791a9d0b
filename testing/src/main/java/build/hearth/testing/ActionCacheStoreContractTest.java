package build.hearth.testing;

import static build.hearth.testing.ContractSupport.mix;
import static build.hearth.testing.ContractSupport.runConcurrently;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import build.hearth.api.Digest;
import build.hearth.spi.storage.ActionCacheStore;
import build.hearth.spi.storage.StoreStats;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.AfterTestExecutionCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The conformance suite for {@link ActionCacheStore}s: entries are found, replaced and removed by
 * key, eviction keeps the store within its capacity in bytes and accounts for them, and a reader
 * never sees a torn entry while writers replace it.
 *
 * <pre>{@code
 * class RedisActionCacheStoreTest extends ActionCacheStoreContractTest {
 *   @Override
 *   protected ActionCacheStore newStore(long capacityBytes) {
 *     return RedisActionCacheStore.connect(redis.uri(), "t-" + UUID.randomUUID(), capacityBytes);
 *   }
 * }
 * }</pre>
 *
 * <p><b>Capabilities.</b> {@link #evictsLeastRecentlyUsed()} (default true) makes the
 * eviction-order test name the victim; {@link #survivesReopen()} (default false, with {@link
 * #reopen(long)}) makes the reopen test expect the entries back. Every test runs; the flags only
 * select how much it checks.
 *
 * <p><b>Invariants.</b> After every test that passed, the suite checks that the statistics are sane
 * and within capacity, and, for tests that track what they wrote, that every entry still present is
 * the one last written and that {@code sizeBytes} and {@code entries} count exactly the entries
 * present. It also expects a store to keep its own copy of an entry: changing the array given to
 * {@code put} or returned by {@code get} must not change what the store holds. The checks run, and
 * the store is closed, before the subclass's {@code @AfterEach} methods.
 *
 * <p><b>Extending.</b> Only {@link #newStore} is required. A subclass may add tests of its own with
 * the helpers ({@link #store()}, {@link #put}, {@link #remove}, {@link #randomKey()}); the
 * invariants then cover them too, and the suite closes the store, so a test does not. A persistent
 * store also overrides {@link #reopen} and {@link #survivesReopen()}, as the package documentation
 * shows for blob stores. JUnit creates one instance per test; the helpers may be called from the
 * worker threads of that test.
 */
public abstract class ActionCacheStoreContractTest {

  /** For the test classes of stores, which JUnit creates once per test. */
  protected ActionCacheStoreContractTest() {}

  /** Capacity of the store that tests get from {@link #store()}: room enough never to evict. */
  protected static final long DEFAULT_CAPACITY_BYTES = 16L << 20;

  private static final int HEADER_BYTES = 20;

  private final Random random = new Random(0xAC_5EEDL);
  // The value last put per key; a test that cannot know it (concurrent writers) turns tracking off.
  private final Map<Digest, byte[]> expected = new ConcurrentHashMap<>();
  private boolean tracking = true;
  // Guarded by this: worker threads of the concurrency tests call store().
  private ActionCacheStore store;
  private long capacityBytes;

  /** Checks the invariants and closes the store before the subclass's {@code @AfterEach}. */
  @RegisterExtension final AfterTestExecutionCallback invariants = this::afterTest;

  /**
   * Opens a new, empty store that keeps at most {@code capacityBytes} bytes of entries and reports
   * that capacity in {@link StoreStats#capacityBytes()}. Called at most a few times per test; the
   * suite closes each store it opens.
   *
   * @param capacityBytes the most bytes of entries to keep, from 4 KiB to {@link
   *     #DEFAULT_CAPACITY_BYTES}
   * @return the new store, never null
   */
  protected abstract ActionCacheStore newStore(long capacityBytes);

  /**
   * Opens a store over the same data as the store the suite opened last, which the suite has
   * closed. Persistent stores override this and {@link #survivesReopen()}; the default opens a
   * fresh store.
   *
   * @param capacityBytes the capacity of the reopened store
   * @return the reopened store, never null
   */
  protected ActionCacheStore reopen(long capacityBytes) {
    return newStore(capacityBytes);
  }

  /** {@return whether a store from {@link #reopen} holds the entries put before the close} */
  protected boolean survivesReopen() {
    return false;
  }

  /**
   * {@return whether eviction removes the least recently used entry first} A {@code put} and a
   * {@code get} that finds the entry count as uses. Stores with another policy return false; the
   * eviction-order test then checks only that one entry went.
   */
  protected boolean evictsLeastRecentlyUsed() {
    return true;
  }

  /** {@return the store under test, opened with {@link #DEFAULT_CAPACITY_BYTES} on first use} */
  protected final synchronized ActionCacheStore store() {
    if (store == null) {
      openStore(DEFAULT_CAPACITY_BYTES);
    }
    return store;
  }

  /**
   * {@return a new, empty store from {@link #newStore}, now {@link #store()}} Closes the last one.
   *
   * @param capacityBytes the new store's capacity in bytes
   */
  protected final synchronized ActionCacheStore openStore(long capacityBytes) {
    closeStore();
    expected.clear();
    this.capacityBytes = capacityBytes;
    store = newStore(capacityBytes);
    assertThat(store).as("newStore(%d)", capacityBytes).isNotNull();
    return store;
  }

  /**
   * {@return the current store, closed and opened again through {@link #reopen}}
   *
   * @param capacityBytes the reopened store's capacity in bytes
   */
  protected final synchronized ActionCacheStore reopenStore(long capacityBytes) {
    closeStore();
    this.capacityBytes = capacityBytes;
    store = reopen(capacityBytes);
    assertThat(store).as("reopen(%d)", capacityBytes).isNotNull();
    return store;
  }

  /** Closes the current store; the next {@link #store()} opens a new one. */
  protected final synchronized void closeStore() {
    if (store != null) {
      ActionCacheStore closing = store;
      store = null;
      closing.close();
    }
  }

  /** {@return a fresh action digest from the suite's seeded generator, the same in every run} */
  protected final Digest randomKey() {
    return Digest.of(randomBytes(32));
  }

  /**
   * {@return {@code size} bytes from the suite's seeded generator, the same in every run}
   *
   * @param size how many bytes
   */
  protected final byte[] randomBytes(int size) {
    byte[] bytes = new byte[size];
    synchronized (random) {
      random.nextBytes(bytes);
    }
    return bytes;
  }

  /**
   * Puts {@code entry} into {@link #store()} and remembers it for the invariant checks.
   *
   * @param key the action digest
   * @param entry the entry; the suite keeps its own copy
   */
  protected final void put(Digest key, byte[] entry) {
    store().put(key, entry);
    expected.put(key, entry.clone());
  }

  /**
   * Removes the entry from {@link #store()} and forgets it.
   *
   * @param key the action digest
   */
  protected final void remove(Digest key) {
    store().remove(key);
    expected.remove(key);
  }

  /**
   * A closed store refuses puts: otherwise an entry could appear after the close and, in a
   * persistent store, after the next open. Any exception counts as a refusal.
   */
  @Test
  public void putsAfterCloseAreRefused() {
    Digest key = randomKey();
    ActionCacheStore closed = store();

    closeStore();

    assertThatThrownBy(() -> closed.put(key, randomBytes(100)))
        .as("put on a closed store")
        .isInstanceOf(RuntimeException.class);
    reopenStore(DEFAULT_CAPACITY_BYTES);
    assertThat(store().get(key)).as("the entry put after the close, once reopened").isEmpty();
  }

  /** A new store holds nothing and reports zero entries and bytes, and its capacity. */
  @Test
  public void freshStoreIsEmpty() {
    assertThat(store().stats())
        .as("store().stats()")
        .isEqualTo(new StoreStats(0, 0, DEFAULT_CAPACITY_BYTES, 0, 0));
    assertThat(store().get(randomKey())).as("store().get(randomKey())").isEmpty();
  }

  /** An entry put under a key is returned for that key only, and is counted. */
  @Test
  public void putThenGetReturnsTheEntry() {
    Digest key = randomKey();
    byte[] entry = randomBytes(700);

    put(key, entry);

    assertThat(store().get(key))
        .as("store().get(key)")
        .hasValueSatisfying(v -> ContractSupport.assertSameBytes(v, entry, "the entry read back"));
    assertThat(store().get(randomKey())).as("store().get(randomKey())").isEmpty();
    assertThat(store().stats().entries()).as("store().stats().entries()").isEqualTo(1);
    assertThat(store().stats().sizeBytes())
        .as("store().stats().sizeBytes()")
        .isEqualTo(entry.length);
  }

  /** An {@code ActionResult} with every field at its default serializes to zero bytes. */
  @Test
  public void emptyEntryIsKept() {
    Digest key = randomKey();

    put(key, new byte[0]);

    assertThat(store().get(key))
        .as("store().get(key)")
        .hasValueSatisfying(v -> assertThat(v).as("v").isEmpty());
  }

  /** The size is part of the key: the same hash with another size is another action. */
  @Test
  public void sizeIsPartOfTheKey() {
    Digest key = randomKey();
    put(key, randomBytes(100));

    assertThat(store().get(new Digest(key.hash(), key.sizeBytes() + 1)))
        .as("store().get(new Digest(key.hash(), key.sizeBytes() + 1))")
        .isEmpty();
  }

  /** A second put under a key replaces the entry; the old one no longer counts. */
  @Test
  public void putReplacesTheEarlierEntry() {
    Digest key = randomKey();
    put(key, randomBytes(1000));
    byte[] replacement = randomBytes(300);

    put(key, replacement);

    assertThat(store().get(key))
        .as("store().get(key)")
        .hasValueSatisfying(
            v -> ContractSupport.assertSameBytes(v, replacement, "the entry read back"));
    assertThat(store().stats().entries()).as("store().stats().entries()").isEqualTo(1);
    assertThat(store().stats().sizeBytes())
        .as("store().stats().sizeBytes()")
        .isEqualTo(replacement.length);
  }

  /** {@code remove} deletes one entry; removing an absent key does nothing. */
  @Test
  public void removeDeletesOnlyThatEntry() {
    Digest removed = randomKey();
    Digest kept = randomKey();
    put(removed, randomBytes(100));
    byte[] keptEntry = randomBytes(200);
    put(kept, keptEntry);

    remove(removed);
    remove(randomKey());

    assertThat(store().get(removed)).as("store().get(removed)").isEmpty();
    assertThat(store().get(kept))
        .as("store().get(kept)")
        .hasValueSatisfying(
            v -> ContractSupport.assertSameBytes(v, keptEntry, "the entry read back"));
    assertThat(store().stats().entries()).as("store().stats().entries()").isEqualTo(1);
    assertThat(store().stats().sizeBytes())
        .as("store().stats().sizeBytes()")
        .isEqualTo(keptEntry.length);
  }

  /** Changing the array given to {@code put} or returned by {@code get} changes no entry. */
  @Test
  public void storeKeepsItsOwnCopy() {
    Digest key = randomKey();
    byte[] entry = randomBytes(64);
    byte[] original = entry.clone();

    put(key, entry);
    entry[0] ^= 1;
    store().get(key).orElseThrow()[1] ^= 1;

    assertThat(store().get(key))
        .as("store().get(key)")
        .hasValueSatisfying(
            v -> ContractSupport.assertSameBytes(v, original, "the entry read back"));
  }

  /** Eviction keeps the store within capacity; what is stored plus evicted is what was put. */
  @Test
  public void evictionKeepsTheStoreWithinCapacity() {
    long capacity = 16 * 1024;
    openStore(capacity);
    long total = 0;
    long lastEvictions = 0;

    for (int i = 0; i < 64; i++) {
      byte[] entry = randomBytes(256 + random.nextInt(1024));
      put(randomKey(), entry);
      total += entry.length;

      StoreStats stats = store().stats();
      assertThat(stats.sizeBytes()).as("size after put %d", i).isLessThanOrEqualTo(capacity);
      assertThat(stats.sizeBytes() + stats.evictedBytes())
          .as("size + evicted bytes after put %d", i)
          .isEqualTo(total);
      assertThat(stats.evictions()).as("stats.evictions()").isGreaterThanOrEqualTo(lastEvictions);
      lastEvictions = stats.evictions();
    }
    assertThat(lastEvictions).as("lastEvictions").isPositive();
  }

  /** A full store evicts one entry for a new one: with LRU, the one used least recently. */
  @Test
  public void leastRecentlyUsedEntryIsEvictedFirst() {
    int size = 1024;
    openStore(4L * size);
    List<Digest> keys = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      Digest key = randomKey();
      put(key, randomBytes(size));
      keys.add(key);
    }
    assertThat(store().get(keys.get(0))).as("store().get(keys.get(0))").isPresent();
    assertThat(store().get(keys.get(1))).as("store().get(keys.get(1))").isPresent();

    Digest fifth = randomKey();
    put(fifth, randomBytes(size));

    StoreStats stats = store().stats();
    assertThat(stats.evictions()).as("stats.evictions()").isEqualTo(1);
    assertThat(stats.evictedBytes()).as("stats.evictedBytes()").isEqualTo(size);
    keys.add(fifth);
    List<Digest> missing = keys.stream().filter(k -> store().get(k).isEmpty()).toList();
    if (evictsLeastRecentlyUsed()) {
      assertThat(missing)
          .as("the third entry was used least recently")
          .containsExactly(keys.get(2));
    } else {
      assertThat(missing).as("missing").hasSize(1);
    }
  }

  /**
   * Eight threads replace, read and remove entries of a few keys. Every entry describes itself
   * (key, version, length, and content derived from them), so a reader can tell that what it got is
   * one whole entry that some writer put for that key.
   */
  @Test
  public void concurrentPutsAndGetsNeverSeeATornEntry() {
    tracking = false;
    List<Digest> keys = new ArrayList<>();
    for (int i = 0; i < 16; i++) {
      keys.add(randomKey());
    }

    runConcurrently(
        8,
        (thread, barrier) -> {
          Random mine = new Random(2000 + thread);
          for (int op = 0; op < 400; op++) {
            int k = mine.nextInt(keys.size());
            Digest key = keys.get(k);
            int kind = mine.nextInt(10);
            if (kind < 4) {
              store().put(key, selfDescribingEntry(k, mine.nextInt(1_000_000)));
            } else if (kind < 9) {
              store().get(key).ifPresent(entry -> assertWhole(entry, k));
            } else {
              store().remove(key);
            }
          }
        });

    for (int k = 0; k < keys.size(); k++) {
      int index = k;
      store().get(keys.get(k)).ifPresent(entry -> assertWhole(entry, index));
    }
  }

  /** Eight threads putting entries under different keys lose none and count them all. */
  @Test
  public void concurrentPutsOfDifferentKeysAllLand() {
    int threads = 8;
    int perThread = 32;
    List<List<Digest>> keys = new ArrayList<>();
    List<List<byte[]>> entries = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      List<Digest> myKeys = new ArrayList<>();
      List<byte[]> myEntries = new ArrayList<>();
      for (int i = 0; i < perThread; i++) {
        myKeys.add(randomKey());
        myEntries.add(randomBytes(random.nextInt(2048)));
      }
      keys.add(myKeys);
      entries.add(myEntries);
    }

    runConcurrently(
        threads,
        (thread, barrier) -> {
          for (int i = 0; i < perThread; i++) {
            put(keys.get(thread).get(i), entries.get(thread).get(i));
          }
        });

    for (int t = 0; t < threads; t++) {
      for (int i = 0; i < perThread; i++) {
        byte[] entry = entries.get(t).get(i);
        assertThat(store().get(keys.get(t).get(i)))
            .as("store().get(keys.get(t).get(i))")
            .hasValueSatisfying(
                v -> ContractSupport.assertSameBytes(v, entry, "the entry read back"));
      }
    }
    assertThat(store().stats().entries())
        .as("store().stats().entries()")
        .isEqualTo((long) threads * perThread);
  }

  /**
   * A persistent store reopens with its entries (the last value of each key, none that were
   * removed) and the same accounting. Any store can be opened again and used after a close.
   */
  @Test
  public void reopenedStoreKeepsEntries() {
    List<Digest> keys = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      Digest key = randomKey();
      put(key, randomBytes(100 + i));
      keys.add(key);
    }
    put(keys.get(0), randomBytes(50));
    remove(keys.get(1));
    StoreStats before = store().stats();

    reopenStore(DEFAULT_CAPACITY_BYTES);

    if (survivesReopen()) {
      for (Digest key : keys) {
        byte[] last = expected.get(key);
        if (last == null) {
          assertThat(store().get(key)).as("removed before the close").isEmpty();
        } else {
          assertThat(store().get(key))
              .as("store().get(key)")
              .hasValueSatisfying(
                  v -> ContractSupport.assertSameBytes(v, last, "the entry read back"));
        }
      }
      assertThat(store().stats().entries())
          .as("store().stats().entries()")
          .isEqualTo(before.entries());
      assertThat(store().stats().sizeBytes())
          .as("store().stats().sizeBytes()")
          .isEqualTo(before.sizeBytes());
    } else {
      Digest key = randomKey();
      byte[] entry = randomBytes(10);
      put(key, entry);
      assertThat(store().get(key))
          .as("store().get(key)")
          .hasValueSatisfying(
              v -> ContractSupport.assertSameBytes(v, entry, "the entry read back"));
    }
  }

  /** An entry for key index {@code k}: header (key, version, length), then derived content. */
  private static byte[] selfDescribingEntry(int k, int version) {
    int length = HEADER_BYTES + (int) Math.floorMod(mix(k * 31L + version), 4096L);
    ByteBuffer entry = ByteBuffer.allocate(length);
    entry.putLong(k).putLong(version).putInt(length);
    for (int i = HEADER_BYTES; i < length; i++) {
      entry.put((byte) mix(((long) version << 32) + i * 131L + k));
    }
    return entry.array();
  }

  private static void assertWhole(byte[] entry, int k) {
    assertThat(entry.length).as("entry length").isGreaterThanOrEqualTo(HEADER_BYTES);
    ByteBuffer header = ByteBuffer.wrap(entry);
    long key = header.getLong();
    long version = header.getLong();
    assertThat(key).as("key index in the entry").isEqualTo(k);
    assertThat(entry)
        .as("entry version %d", version)
        .isEqualTo(selfDescribingEntry(k, (int) version));
  }

  private void afterTest(ExtensionContext context) {
    try {
      if (store != null && context.getExecutionException().isEmpty()) {
        checkInvariants();
      }
    } finally {
      closeStore();
    }
  }

  private void checkInvariants() {
    StoreStats stats = store.stats();
    assertThat(stats.capacityBytes()).as("capacityBytes").isEqualTo(capacityBytes);
    assertThat(stats.sizeBytes()).as("sizeBytes").isBetween(0L, capacityBytes);
    assertThat(stats.entries()).as("entries").isNotNegative();
    assertThat(stats.evictions()).as("evictions").isNotNegative();
    assertThat(stats.evictedBytes()).as("evictedBytes").isNotNegative();
    if (!tracking) {
      return;
    }
    long bytes = 0;
    long entries = 0;
    for (Map.Entry<Digest, byte[]> e : expected.entrySet()) {
      Optional<byte[]> actual = store.get(e.getKey());
      if (actual.isPresent()) {
        assertThat(actual.get()).as("entry for %s", e.getKey()).isEqualTo(e.getValue());
        entries++;
        bytes += e.getValue().length;
      }
    }
    assertThat(stats.sizeBytes())
        .as("sizeBytes: the total size of the entries present")
        .isEqualTo(bytes);
    assertThat(stats.entries()).as("entries: the entries present").isEqualTo(entries);
  }
}
