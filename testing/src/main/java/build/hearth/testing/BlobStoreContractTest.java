package build.hearth.testing;

import static build.hearth.testing.ContractSupport.concat;
import static build.hearth.testing.ContractSupport.digestOf;
import static build.hearth.testing.ContractSupport.fillPattern;
import static build.hearth.testing.ContractSupport.runConcurrently;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import build.hearth.api.Digest;
import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import build.hearth.spi.storage.BlobStore;
import build.hearth.spi.storage.StoreStats;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.AfterTestExecutionCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The conformance suite for {@link BlobStore}s. A store proves that it keeps the SPI's promises by
 * passing it: blobs appear only whole and only on commit, puts are idempotent, reads stream from an
 * offset, eviction keeps the store within its capacity and accounts for every byte, and all of that
 * holds under concurrency.
 *
 * <pre>{@code
 * class SqliteBlobStoreTest extends BlobStoreContractTest {
 *   @TempDir Path dir;
 *   private int opened;
 *
 *   @Override
 *   protected BlobStore newStore(long capacityBytes) {
 *     return SqliteBlobStore.open(dir.resolve("store-" + opened++), capacityBytes);
 *   }
 * }
 * }</pre>
 *
 * <p><b>Capabilities.</b> Override the flags to declare what the store does; each test checks the
 * strongest promise the flags allow, and no test is skipped. {@link #supportsBlobsLargerThanHeap()}
 * (default true) selects a blob larger than the heap for the streaming test; {@link
 * #evictsLeastRecentlyUsed()} (default true) makes the eviction-order test name the victim; {@link
 * #survivesReopen()} (default false, with {@link #reopen(long)}) makes the reopen tests expect the
 * blobs back.
 *
 * <p><b>Invariants.</b> After every test that passed, the suite checks the store it left open: the
 * statistics are sane and within capacity, {@code sizeBytes} is exactly the total size of the
 * committed blobs the store still contains, and every such blob (up to 16 MiB) reads back with its
 * digest. So a store's statistics must be exact whenever no operation is in flight. The checks run,
 * and the store is closed, before the subclass's {@code @AfterEach} methods.
 *
 * <p>The streaming test needs {@code Runtime.maxMemory() + 64 MiB} of disk for stores that support
 * blobs larger than the heap; run such a store's suite with a small heap ({@code -Xmx128m}) to keep
 * it fast. Content is generated from fixed seeds, so every run is the same.
 *
 * <p><b>Extending.</b> Only {@link #newStore} is required. A subclass may add tests of its own with
 * the helpers ({@link #store()}, {@link #put}, {@link #readFully}); the invariants then cover them
 * too, and the suite closes the store, so a test does not. The package documentation shows a
 * persistent store's test. JUnit creates one instance per test; the helpers may be called from the
 * worker threads of that test.
 */
public abstract class BlobStoreContractTest {

  /** For the test classes of stores, which JUnit creates once per test. */
  protected BlobStoreContractTest() {}

  /** Capacity of the store that tests get from {@link #store()}: room enough never to evict. */
  protected static final long DEFAULT_CAPACITY_BYTES = 64L << 20;

  private static final int CHUNK_BYTES = 1 << 20;
  private static final long VERIFY_LIMIT_BYTES = 16L << 20;

  private final Random random = new Random(0x5EED_B10BL);
  private final Set<Digest> committed = ConcurrentHashMap.newKeySet();
  // Guarded by this: worker threads of the concurrency tests call store().
  private BlobStore store;
  private long capacityBytes;

  /** Checks the invariants and closes the store before the subclass's {@code @AfterEach}. */
  @RegisterExtension final AfterTestExecutionCallback invariants = this::afterTest;

  /**
   * Opens a new, empty store that keeps at most {@code capacityBytes} bytes of blobs and reports
   * that capacity in {@link StoreStats#capacityBytes()}. Called at most a few times per test; the
   * suite closes each store it opens.
   *
   * @param capacityBytes the most bytes of blobs to keep: 16 KiB up to a little over the heap size
   * @return the new store, never null
   */
  protected abstract BlobStore newStore(long capacityBytes);

  /**
   * Opens a store over the same data as the store the suite opened last (with {@link #newStore} or
   * this method), which the suite has closed. A persistent store overrides this and {@link
   * #survivesReopen()}. The default opens a fresh store, for stores that keep nothing.
   *
   * @param capacityBytes the capacity of the reopened store, which may be smaller than before
   * @return the reopened store, never null
   */
  protected BlobStore reopen(long capacityBytes) {
    return newStore(capacityBytes);
  }

  /** {@return whether a store from {@link #reopen} holds the blobs committed before the close} */
  protected boolean survivesReopen() {
    return false;
  }

  /**
   * {@return whether the store streams blobs larger than the JVM's heap} Stores that hold blobs in
   * memory return false; the streaming test then uses an 8 MiB blob.
   */
  protected boolean supportsBlobsLargerThanHeap() {
    return true;
  }

  /**
   * {@return whether eviction removes the least recently used blob first} A commit, {@code
   * contains}, {@code findMissing} and {@code read} all count as uses. Stores with another policy
   * (such as a frequency-based admission policy) return false; the eviction tests then check only
   * the accounting.
   */
  protected boolean evictsLeastRecentlyUsed() {
    return true;
  }

  /** {@return the store under test, opened with {@link #DEFAULT_CAPACITY_BYTES} on first use} */
  protected final synchronized BlobStore store() {
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
  protected final synchronized BlobStore openStore(long capacityBytes) {
    closeStore();
    committed.clear();
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
  protected final synchronized BlobStore reopenStore(long capacityBytes) {
    closeStore();
    this.capacityBytes = capacityBytes;
    store = reopen(capacityBytes);
    assertThat(store).as("reopen(%d)", capacityBytes).isNotNull();
    return store;
  }

  /** Closes the current store; the next {@link #store()} opens a new one. */
  protected final synchronized void closeStore() {
    if (store != null) {
      BlobStore closing = store;
      store = null;
      closing.close();
    }
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
   * {@return the digest of {@code content}, uploaded in one write and committed with {@link
   * #commit}}
   *
   * @param content the blob
   */
  protected final Digest put(byte[] content) {
    Digest digest = Digest.of(content);
    try (BlobStore.Upload upload = store().startUpload(digest)) {
      upload.write(content, 0, content.length);
      assertThat(upload.written()).as("upload.written()").isEqualTo(content.length);
      commit(upload, digest);
    }
    return digest;
  }

  /**
   * Commits {@code upload} and remembers the blob for the invariant checks. A test that writes
   * through {@link BlobStore#startUpload} itself commits with this, not {@code upload.commit()}.
   *
   * @param upload an upload of the current store
   * @param digest the blob it writes
   */
  protected final void commit(BlobStore.Upload upload, Digest digest) {
    upload.commit();
    committed.add(digest);
  }

  /**
   * {@return the blob's bytes from {@code offset} to its end, or empty if the store has no blob}
   *
   * @param digest the blob
   * @param offset where to start, in bytes
   */
  protected final Optional<byte[]> readFully(Digest digest, long offset) {
    Optional<InputStream> in = store().read(digest, offset);
    if (in.isEmpty()) {
      return Optional.empty();
    }
    try (InputStream stream = in.get()) {
      return Optional.of(stream.readAllBytes());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A new store holds nothing and reports zero entries and bytes, and its capacity. */
  @Test
  public void freshStoreIsEmpty() {
    Digest absent = Digest.of(randomBytes(100));

    assertThat(store().stats())
        .as("store().stats()")
        .isEqualTo(new StoreStats(0, 0, DEFAULT_CAPACITY_BYTES, 0, 0));
    assertThat(store().contains(absent)).as("store().contains(absent)").isFalse();
    assertThat(store().read(absent, 0)).as("store().read(absent, 0)").isEmpty();
    assertThat(store().findMissing(List.of(absent)))
        .as("store().findMissing(List.of(absent))")
        .containsExactly(absent);
  }

  /** A committed blob is found, reads back byte for byte, and is counted. */
  @Test
  public void committedBlobIsContainedAndReadsBack() {
    byte[] content = randomBytes(10_000);

    Digest digest = put(content);

    assertThat(store().contains(digest)).as("store().contains(digest)").isTrue();
    assertReadsBack(digest, content);
    assertThat(store().stats().entries()).as("store().stats().entries()").isEqualTo(1);
    assertThat(store().stats().sizeBytes())
        .as("store().stats().sizeBytes()")
        .isEqualTo(content.length);
  }

  /** {@code findMissing} returns the absent blobs, once each, and nothing else. */
  @Test
  public void findMissingReportsExactlyTheAbsentBlobs() {
    Digest a = put(randomBytes(100));
    Digest b = put(randomBytes(200));
    Digest absent1 = Digest.of(randomBytes(300));
    Digest absent2 = Digest.of(randomBytes(400));

    assertThat(store().findMissing(List.of(a, absent1, b, absent2, absent1, a)))
        .as("store().findMissing(List.of(a, absent1, b, absent2, absent1, a))")
        .containsExactlyInAnyOrder(absent1, absent2);
    assertThat(store().findMissing(List.of(a, b)))
        .as("store().findMissing(List.of(a, b))")
        .isEmpty();
    assertThat(store().findMissing(List.of())).as("store().findMissing(List.of())").isEmpty();
  }

  /** A digest names a blob by hash and size; the same hash with another size is another blob. */
  @Test
  public void sizeIsPartOfTheIdentity() {
    Digest digest = put(randomBytes(1000));
    Digest otherSize = new Digest(digest.hash(), digest.sizeBytes() + 1);

    assertThat(store().contains(otherSize)).as("store().contains(otherSize)").isFalse();
    assertThat(store().read(otherSize, 0)).as("store().read(otherSize, 0)").isEmpty();
    assertThat(store().findMissing(List.of(digest, otherSize)))
        .as("store().findMissing(List.of(digest, otherSize))")
        .containsExactly(otherSize);
  }

  /**
   * A second put of a blob neither duplicates it nor disturbs a reader of the first.
   *
   * @throws IOException if a stream of the store fails
   */
  @Test
  public void puttingABlobTwiceStoresItOnce() throws IOException {
    byte[] content = randomBytes(50_000);
    Digest digest = put(content);

    try (InputStream reader = store().read(digest, 0).orElseThrow()) {
      byte[] head = reader.readNBytes(1000);
      put(content);
      byte[] tail = reader.readAllBytes();

      assertSameBytes(concat(head, tail), content, "a reader open across the second put");
    }
    StoreStats stats = store().stats();
    assertThat(stats.entries()).as("stats.entries()").isEqualTo(1);
    assertThat(stats.sizeBytes()).as("stats.sizeBytes()").isEqualTo(content.length);
    assertReadsBack(digest, content);
  }

  /** The empty blob commits; a store that then claims it also serves it, with no bytes. */
  @Test
  public void emptyBlobCanBeCommittedAndRead() {
    try (BlobStore.Upload upload = store().startUpload(Digest.EMPTY)) {
      assertThat(upload.written()).as("upload.written()").isZero();
      commit(upload, Digest.EMPTY);
    }

    // The SPI lets a store leave the empty blob to the core; if it says it has it, it must serve
    // it.
    boolean contained = store().contains(Digest.EMPTY);
    Optional<byte[]> read = readFully(Digest.EMPTY, 0);
    assertThat(read.isPresent()).as("read present == contains").isEqualTo(contained);
    read.ifPresent(bytes -> assertThat(bytes).as("bytes").isEmpty());
    assertThat(store().stats().sizeBytes()).as("store().stats().sizeBytes()").isZero();
  }

  /**
   * Reads start at any offset up to the size; two readers of one blob are independent.
   *
   * @throws IOException if a stream of the store fails
   */
  @Test
  public void readsStartAtTheOffset() throws IOException {
    byte[] content = randomBytes(100_003);
    Digest digest = put(content);

    for (int offset : new int[] {0, 1, 4096, 50_001, content.length - 1}) {
      assertThat(readFully(digest, offset))
          .as("read from offset %d", offset)
          .hasValueSatisfying(
              b ->
                  assertSameBytes(
                      b,
                      Arrays.copyOfRange(content, offset, content.length),
                      "read from offset " + offset));
    }
    assertThat(readFully(digest, content.length))
        .as("read from offset == size")
        .hasValueSatisfying(b -> assertThat(b).as("b").isEmpty());

    // Two readers of one blob do not disturb each other.
    try (InputStream first = store().read(digest, 0).orElseThrow();
        InputStream second = store().read(digest, 60_000).orElseThrow()) {
      byte[] a1 = first.readNBytes(30_000);
      byte[] b1 = second.readNBytes(20_000);
      byte[] a2 = first.readAllBytes();
      byte[] b2 = second.readAllBytes();
      assertSameBytes(concat(a1, a2), content, "the bytes of two reads joined");
      assertSameBytes(
          concat(b1, b2),
          Arrays.copyOfRange(content, 60_000, content.length),
          "the bytes of two reads joined");
    }
  }

  /** Writes of any size, empty ones included, append in order from their array offset. */
  @Test
  public void uploadAssemblesWritesInOrder() {
    byte[] content = randomBytes(70_001);
    Digest digest = Digest.of(content);
    byte[] padded = new byte[content.length + 20];
    System.arraycopy(content, 0, padded, 10, content.length);

    try (BlobStore.Upload upload = store().startUpload(digest)) {
      int[] sizes = {1, 0, 7, 4096, 1, 65_536, 0};
      int position = 0;
      for (int size : sizes) {
        upload.write(padded, 10 + position, size);
        position += size;
        assertThat(upload.written()).as("upload.written()").isEqualTo(position);
      }
      upload.write(padded, 10 + position, content.length - position);
      commit(upload, digest);
    }

    assertReadsBack(digest, content);
  }

  /**
   * Buffer writes append each buffer's remaining bytes in order, whatever the buffers are: heap
   * (with an array offset), direct, read-only, empty, a few bytes or a megabyte, alone or many in
   * one call. The store leaves their contents as they were.
   */
  @Test
  public void uploadAssemblesBufferWritesInOrder() {
    byte[] content = randomBytes(3 * CHUNK_BYTES + 7);
    Digest digest = Digest.of(content);
    int[][] calls = {
      {1, 0, 7}, {4096, 100_000, 3}, {16_384, 16_384, 16_384, 16_384, 16_384}, {CHUNK_BYTES}, {0}
    };

    try (BlobStore.Upload upload = store().startUpload(digest)) {
      int position = 0;
      int kind = 0;
      for (int[] sizes : calls) {
        List<ByteBuffer> buffers = new ArrayList<>();
        int start = position;
        for (int size : sizes) {
          buffers.add(bufferOver(content, position, size, kind++));
          position += size;
        }
        upload.write(buffers);
        assertThat(upload.written()).as("upload.written()").isEqualTo(position);
        int offset = start;
        for (ByteBuffer buffer : buffers) {
          int size = buffer.limit() - BUFFER_LEAD;
          byte[] after = new byte[size];
          buffer.get(BUFFER_LEAD, after);
          assertSameBytes(
              after,
              Arrays.copyOfRange(content, offset, offset + size),
              "buffer bytes from " + offset + " after the write");
          offset += size;
        }
      }
      upload.write(List.of(bufferOver(content, position, content.length - position, kind)));
      commit(upload, digest);
    }

    assertReadsBack(digest, content);
  }

  /** A buffer write that goes past the digest's size makes the commit fail. */
  @Test
  public void bufferWritePastTheSizeIsRefusedAtCommit() {
    byte[] content = randomBytes(2 * CHUNK_BYTES);
    Digest digest = Digest.of(content);

    try (BlobStore.Upload upload = store().startUpload(digest)) {
      upload.write(List.of(bufferOver(content, 0, content.length - 10, 1)));
      upload.write(List.of(bufferOver(content, 0, 20, 3)));
      assertInvalidCommit(upload);
    }

    assertInvisible(digest);
  }

  private static final int BUFFER_LEAD = 5;

  /**
   * A buffer whose remaining bytes are {@code content[from, from + size)}, starting at position
   * {@link #BUFFER_LEAD}: by {@code kind} modulo 4 a heap slice with an array offset, a direct
   * buffer, or a read-only view of either.
   */
  private static ByteBuffer bufferOver(byte[] content, int from, int size, int kind) {
    int capacity = BUFFER_LEAD + size;
    ByteBuffer buffer =
        kind % 2 == 0
            ? ByteBuffer.allocate(capacity + 3).position(3).slice()
            : ByteBuffer.allocateDirect(capacity);
    buffer.position(BUFFER_LEAD).put(content, from, size).position(BUFFER_LEAD);
    return kind % 4 >= 2 ? buffer.asReadOnlyBuffer() : buffer;
  }

  /**
   * A blob larger than the heap goes in and comes out as streams, generated and verified on the fly
   * in 1 MiB chunks, so a store that buffers whole blobs runs out of memory here.
   *
   * @throws IOException if a stream of the store fails
   */
  @Test
  public void streamsABlobLargerThanTheHeap() throws IOException {
    long size =
        supportsBlobsLargerThanHeap()
            ? Math.min(Runtime.getRuntime().maxMemory(), 16L << 30) + (64L << 20) + 5
            : (8L << 20) + 5;
    long seed = 0xB16B10BL;
    openStore(size + CHUNK_BYTES);
    Digest digest = ContractSupport.patternDigest(seed, size, CHUNK_BYTES);

    byte[] chunk = new byte[CHUNK_BYTES];
    try (BlobStore.Upload upload = store().startUpload(digest)) {
      for (long position = 0; position < size; position += CHUNK_BYTES) {
        int length = (int) Math.min(CHUNK_BYTES, size - position);
        fillPattern(seed, position, chunk, 0, length);
        upload.write(chunk, 0, length);
      }
      commit(upload, digest);
    }

    assertThat(digestOf(store().read(digest, 0).orElseThrow()))
        .as("digestOf(store().read(digest, 0).orElseThrow())")
        .isEqualTo(digest);
    assertPatternAt(digest, seed, size - 4097, 4097);
    assertPatternAt(digest, seed, size / 2 + 3, 65_536);
    assertThat(readFully(digest, size))
        .as("readFully(digest, size)")
        .hasValueSatisfying(b -> assertThat(b).as("b").isEmpty());
  }

  /** Eight uploads of one blob committing at once leave one copy, counted once. */
  @Test
  public void concurrentUploadsOfOneBlobStoreOneCopy() {
    byte[] content = randomBytes(256 * 1024 + 3);
    Digest digest = Digest.of(content);
    int quarter = content.length / 4;

    runConcurrently(
        8,
        (thread, barrier) -> {
          try (BlobStore.Upload upload = store().startUpload(digest)) {
            for (int i = 0; i < 3; i++) {
              upload.write(content, i * quarter, quarter);
            }
            upload.write(content, 3 * quarter, content.length - 3 * quarter);
            barrier.await();
            commit(upload, digest);
          }
        });

    StoreStats stats = store().stats();
    assertThat(stats.entries()).as("stats.entries()").isEqualTo(1);
    assertThat(stats.sizeBytes()).as("stats.sizeBytes()").isEqualTo(content.length);
    assertReadsBack(digest, content);
  }

  /** Eight threads putting different blobs lose none and count every byte. */
  @Test
  public void concurrentUploadsOfDifferentBlobsAllLand() {
    int threads = 8;
    int perThread = 16;
    List<List<byte[]>> contents = new ArrayList<>();
    long total = 0;
    for (int t = 0; t < threads; t++) {
      List<byte[]> mine = new ArrayList<>();
      for (int i = 0; i < perThread; i++) {
        byte[] content = randomBytes(1 + random.nextInt(32 * 1024));
        total += content.length;
        mine.add(content);
      }
      contents.add(mine);
    }

    runConcurrently(
        threads,
        (thread, barrier) -> {
          for (byte[] content : contents.get(thread)) {
            put(content);
          }
        });

    for (List<byte[]> mine : contents) {
      for (byte[] content : mine) {
        assertReadsBack(Digest.of(content), content);
      }
    }
    StoreStats stats = store().stats();
    assertThat(stats.entries()).as("stats.entries()").isEqualTo((long) threads * perThread);
    assertThat(stats.sizeBytes()).as("stats.sizeBytes()").isEqualTo(total);
  }

  /**
   * Eight threads put, read, look up and evict a pool of blobs larger than the store: every read
   * that the store serves is correct from its offset, and the accounting ends within capacity.
   */
  @Test
  public void concurrentReadsAndWritesUnderEvictionStayConsistent() {
    long capacity = 256 * 1024;
    openStore(capacity);
    List<byte[]> pool = new ArrayList<>();
    for (int i = 0; i < 48; i++) {
      pool.add(randomBytes(1 + random.nextInt(12 * 1024)));
    }
    List<Digest> digests = pool.stream().map(Digest::of).toList();

    runConcurrently(
        8,
        (thread, barrier) -> {
          Random mine = new Random(1000 + thread);
          for (int op = 0; op < 200; op++) {
            int i = mine.nextInt(pool.size());
            byte[] content = pool.get(i);
            int kind = mine.nextInt(10);
            if (kind < 4) {
              put(content);
            } else if (kind < 8) {
              int offset = mine.nextInt(content.length + 1);
              readFully(digests.get(i), offset)
                  .ifPresent(
                      b ->
                          assertSameBytes(
                              b,
                              Arrays.copyOfRange(content, offset, content.length),
                              "blob " + i + " from offset " + offset));
            } else if (kind < 9) {
              store().contains(digests.get(i));
            } else {
              store().findMissing(digests.subList(i / 2, i / 2 + 4));
            }
          }
        });

    StoreStats stats = store().stats();
    assertThat(stats.sizeBytes()).as("stats.sizeBytes()").isBetween(0L, capacity);
    assertThat(stats.evictions()).as("stats.evictions()").isPositive();
  }

  /** Eviction keeps the store within capacity; what is stored plus evicted is what was put. */
  @Test
  public void evictionKeepsTheStoreWithinCapacity() {
    long capacity = 16 * 1024;
    openStore(capacity);
    long total = 0;
    long lastEvictions = 0;

    for (int i = 0; i < 64; i++) {
      byte[] content = randomBytes(512 + random.nextInt(1536));
      put(content);
      total += content.length;

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

  /** A full store evicts one blob for a new one: with LRU, the one used least recently. */
  @Test
  public void leastRecentlyUsedBlobIsEvictedFirst() {
    int size = 16 * 1024;
    openStore(4L * size);
    Digest a = put(randomBytes(size));
    Digest b = put(randomBytes(size));
    Digest c = put(randomBytes(size));
    Digest d = put(randomBytes(size));
    assertThat(store().contains(a)).as("store().contains(a)").isTrue();
    assertThat(readFully(b, 0)).as("readFully(b, 0)").isPresent();

    Digest e = put(randomBytes(size));

    StoreStats stats = store().stats();
    assertThat(stats.evictions()).as("stats.evictions()").isEqualTo(1);
    assertThat(stats.evictedBytes()).as("stats.evictedBytes()").isEqualTo(size);
    Set<Digest> missing = store().findMissing(List.of(a, b, c, d, e));
    if (evictsLeastRecentlyUsed()) {
      assertThat(missing).as("c was used least recently").containsExactly(c);
    } else {
      assertThat(missing).as("missing").hasSize(1);
    }
  }

  /** An upload larger than the capacity is refused at start with RESOURCE_EXHAUSTED. */
  @Test
  public void blobLargerThanCapacityIsRefusedAtStart() {
    long capacity = 64 * 1024;
    openStore(capacity);
    Digest tooLarge = new Digest(Digest.of(randomBytes(10)).hash(), capacity + 1);

    assertThatThrownBy(() -> store().startUpload(tooLarge))
        .as("thrown by () -> store().startUpload(tooLarge)")
        .isInstanceOfSatisfying(
            HearthException.class,
            e -> assertThat(e.code()).as("e.code()").isEqualTo(StatusCode.RESOURCE_EXHAUSTED));

    byte[] exactlyCapacity = randomBytes((int) capacity);
    Digest fits = put(exactlyCapacity);
    assertThat(store().contains(fits)).as("store().contains(fits)").isTrue();
  }

  /** An upload in progress is invisible to every lookup and to the byte count. */
  @Test
  public void uncommittedUploadIsInvisible() {
    byte[] content = randomBytes(100_000);
    Digest digest = Digest.of(content);

    try (BlobStore.Upload upload = store().startUpload(digest)) {
      upload.write(content, 0, 50_000);
      assertInvisible(digest);

      upload.write(content, 50_000, 50_000);
      assertInvisible(digest);

      commit(upload, digest);
    }

    assertReadsBack(digest, content);
  }

  /** Closing an upload without commit (twice) discards it; a later put still works. */
  @Test
  public void uploadClosedWithoutCommitLeavesNothing() {
    byte[] content = randomBytes(30_000);
    Digest digest = Digest.of(content);

    BlobStore.Upload upload = store().startUpload(digest);
    upload.write(content, 0, content.length);
    upload.close();
    upload.close();

    assertInvisible(digest);
    put(content);
    assertReadsBack(digest, content);
  }

  /** A commit with fewer bytes than the digest says fails with INVALID_ARGUMENT. */
  @Test
  public void commitWithTooFewBytesIsRefused() {
    byte[] content = randomBytes(30_000);
    Digest digest = Digest.of(content);

    try (BlobStore.Upload upload = store().startUpload(digest)) {
      upload.write(content, 0, content.length - 1);
      assertInvalidCommit(upload);
    }

    assertInvisible(digest);
  }

  /** A commit with more bytes than the digest says fails with INVALID_ARGUMENT. */
  @Test
  public void commitWithTooManyBytesIsRefused() {
    byte[] content = randomBytes(30_000);
    Digest digest = Digest.of(content);

    try (BlobStore.Upload upload = store().startUpload(digest)) {
      upload.write(content, 0, content.length);
      upload.write(new byte[] {42}, 0, 1);
      assertInvalidCommit(upload);
    }

    assertInvisible(digest);
  }

  /** A refused commit of a blob already present leaves the present copy intact. */
  @Test
  public void refusedCommitLeavesAnExistingCopyIntact() {
    byte[] content = randomBytes(30_000);
    Digest digest = put(content);

    try (BlobStore.Upload upload = store().startUpload(digest)) {
      upload.write(content, 0, 100);
      assertInvalidCommit(upload);
    }

    assertReadsBack(digest, content);
    assertThat(store().stats().entries()).as("store().stats().entries()").isEqualTo(1);
  }

  /**
   * A reader that has opened a blob reads it to the end even when the blob is evicted meanwhile.
   * The other blobs are used repeatedly, so that a frequency-based policy evicts the blob too.
   *
   * @throws IOException if a stream of the store fails
   */
  @Test
  public void openReaderSurvivesEviction() throws IOException {
    int size = 64 * 1024;
    openStore(4L * size);
    byte[] content = randomBytes(size);
    Digest victim = put(content);
    List<byte[]> others = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      others.add(randomBytes(size));
    }

    try (InputStream reader = store().read(victim, 0).orElseThrow()) {
      byte[] head = reader.readNBytes(1000);
      for (int round = 0; round < 8; round++) {
        for (byte[] other : others) {
          if (!store().contains(Digest.of(other))) {
            put(other);
          }
        }
      }
      assertThat(store().contains(victim)).as("evicted while being read").isFalse();

      byte[] tail = reader.readAllBytes();
      assertSameBytes(concat(head, tail), content, "the bytes of two reads joined");
    }
  }

  /**
   * A closed store refuses new uploads, and an upload started before the close can no longer commit
   * (its writes may be refused already): otherwise a blob could appear after the close and, in a
   * persistent store, after the next open. Any exception counts as a refusal.
   */
  @Test
  public void writesAndCommitsAfterCloseAreRefused() {
    byte[] content = randomBytes(20_000);
    Digest digest = Digest.of(content);
    BlobStore closed = store();
    BlobStore.Upload upload = closed.startUpload(digest);
    upload.write(content, 0, 10_000);

    closeStore();

    assertThatThrownBy(() -> closed.startUpload(Digest.of(randomBytes(100))))
        .as("startUpload on a closed store")
        .isInstanceOf(RuntimeException.class);
    boolean writeRefused;
    try {
      upload.write(content, 10_000, content.length - 10_000);
      writeRefused = false;
    } catch (RuntimeException e) {
      writeRefused = true;
    }
    if (!writeRefused) {
      assertThatThrownBy(upload::commit)
          .as("commit, after the close, of an upload started before it")
          .isInstanceOf(RuntimeException.class);
    }
    upload.close();
    reopenStore(DEFAULT_CAPACITY_BYTES);
    assertInvisible(digest);
  }

  /**
   * Closing the store discards uploads still open: writing to them afterwards never makes a blob
   * appear, and for a persistent store the reopened store does not hold them.
   */
  @Test
  public void closeDiscardsOpenUploads() {
    byte[] kept = randomBytes(20_000);
    Digest keptDigest = put(kept);
    byte[] open = randomBytes(20_000);
    Digest openDigest = Digest.of(open);
    BlobStore.Upload upload = store().startUpload(openDigest);
    upload.write(open, 0, 10_000);

    closeStore();
    upload.close();
    reopenStore(DEFAULT_CAPACITY_BYTES);

    assertInvisible(openDigest);
    if (survivesReopen()) {
      assertReadsBack(keptDigest, kept);
    }
  }

  /**
   * A persistent store reopens with every committed blob and the same accounting, and reopening it
   * with a smaller capacity evicts down to that capacity. Any store can be opened again and used
   * after a close.
   */
  @Test
  public void reopenedStoreKeepsBlobsAndAccounting() {
    List<byte[]> contents = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      byte[] content = randomBytes(10_000 + i);
      contents.add(content);
      put(content);
    }
    StoreStats before = store().stats();

    reopenStore(DEFAULT_CAPACITY_BYTES);

    if (survivesReopen()) {
      for (byte[] content : contents) {
        assertReadsBack(Digest.of(content), content);
      }
      StoreStats after = store().stats();
      assertThat(after.entries()).as("after.entries()").isEqualTo(before.entries());
      assertThat(after.sizeBytes()).as("after.sizeBytes()").isEqualTo(before.sizeBytes());

      long smaller = before.sizeBytes() / 2;
      reopenStore(smaller);
      assertThat(store().stats().sizeBytes())
          .as("store().stats().sizeBytes()")
          .isLessThanOrEqualTo(smaller);
      assertThat(store().findMissing(contents.stream().map(Digest::of).toList()))
          .as("store().findMissing(contents.stream().map(Digest::of).toList())")
          .isNotEmpty();
    } else {
      byte[] content = randomBytes(1000);
      Digest digest = put(content);
      assertReadsBack(digest, content);
    }
  }

  /**
   * Asserts that the store reads {@code expected} back under {@code digest}, comparing digests so
   * that a failure prints two short digests, not two arrays of up to megabytes.
   *
   * @param digest the blob to read from its start
   * @param expected its bytes
   */
  protected final void assertReadsBack(Digest digest, byte[] expected) {
    Optional<byte[]> read = readFully(digest, 0);
    assertThat(read).as("read(%s) of a committed blob", digest).isPresent();
    assertSameBytes(read.get(), expected, "the bytes read back under " + digest);
  }

  /**
   * Asserts that two byte arrays are equal by comparing their digests (hash and length), so a
   * failure message stays short whatever their size.
   *
   * @param actual the bytes the store gave
   * @param expected the bytes it should have given
   * @param what what the bytes are, for the failure message
   */
  protected static void assertSameBytes(byte[] actual, byte[] expected, String what) {
    assertThat(Digest.of(actual))
        .as("%s (compared by digest: hash/length)", what)
        .isEqualTo(Digest.of(expected));
  }

  private void assertInvisible(Digest digest) {
    assertThat(store().contains(digest)).as("contains(%s)", digest).isFalse();
    assertThat(store().read(digest, 0)).as("read(%s)", digest).isEmpty();
    assertThat(store().findMissing(List.of(digest)))
        .as("store().findMissing(List.of(digest))")
        .containsExactly(digest);
    assertThat(store().stats().sizeBytes())
        .as("sizeBytes counts only committed blobs")
        .isEqualTo(committedBytesContained());
  }

  private static void assertInvalidCommit(BlobStore.Upload upload) {
    assertThatThrownBy(upload::commit)
        .as("thrown by upload::commit")
        .isInstanceOfSatisfying(
            HearthException.class,
            e -> assertThat(e.code()).as("e.code()").isEqualTo(StatusCode.INVALID_ARGUMENT));
  }

  private long committedBytesContained() {
    long bytes = 0;
    for (Digest digest : committed) {
      if (store().contains(digest)) {
        bytes += digest.sizeBytes();
      }
    }
    return bytes;
  }

  private void assertPatternAt(Digest digest, long seed, long offset, int length)
      throws IOException {
    byte[] expected = new byte[length];
    fillPattern(seed, offset, expected, 0, length);
    try (InputStream in = store().read(digest, offset).orElseThrow()) {
      assertSameBytes(in.readNBytes(length), expected, "bytes at offset " + offset);
    }
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

    long bytes = 0;
    long entries = 0;
    for (Digest digest : committed) {
      if (!store.contains(digest)) {
        continue;
      }
      entries++;
      bytes += digest.sizeBytes();
      if (digest.sizeBytes() <= VERIFY_LIMIT_BYTES) {
        Optional<InputStream> in = store.read(digest, 0);
        assertThat(in).as("read of contained blob %s", digest).isPresent();
        assertThat(digestOf(in.get())).as("content of %s", digest).isEqualTo(digest);
      }
    }
    assertThat(stats.sizeBytes())
        .as("sizeBytes: the total size of the committed blobs still contained")
        .isEqualTo(bytes);
    // A store may answer the empty blob without keeping an entry for it.
    long unstoredEmpty = committed.contains(Digest.EMPTY) ? 1 : 0;
    assertThat(stats.entries())
        .as("entries: the committed blobs still contained")
        .isBetween(entries - unstoredEmpty, entries);
  }
}
