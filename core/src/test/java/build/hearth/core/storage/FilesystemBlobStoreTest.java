package build.hearth.core.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import build.hearth.api.ConfigException;
import build.hearth.api.Digest;
import build.hearth.spi.storage.BlobStore;
import build.hearth.spi.storage.StoreContext;
import build.hearth.spi.storage.StoreSettings;
import build.hearth.testing.BlobStoreContractTest;
import build.hearth.testing.FakeClock;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The filesystem blob store against the contract, plus what is particular to it: its layout, the
 * cleanup on open, damaged files, and the LRU order across restarts.
 *
 * <p>Tagged {@code small-heap}: it runs in its own surefire execution with {@code -Xmx128m} (see
 * {@code core/pom.xml}), so the contract's blob larger than the heap is about 190 MiB rather than a
 * gigabyte.
 */
@Tag("small-heap")
class FilesystemBlobStoreTest extends BlobStoreContractTest {
  @TempDir Path dir;

  private final FakeClock clock = new FakeClock(Instant.parse("2024-05-01T10:00:00Z"));
  // The store opened last over each directory, to compare its index with the files afterwards.
  private final Map<Path, BlobStore> latest = new LinkedHashMap<>();
  private Path current;
  private int opened;

  @Override
  protected BlobStore newStore(long capacityBytes) {
    current = dir.resolve("store-" + opened++);
    return open(current, capacityBytes);
  }

  @Override
  protected BlobStore reopen(long capacityBytes) {
    return open(current, capacityBytes);
  }

  @Override
  protected boolean survivesReopen() {
    return true;
  }

  private BlobStore open(Path root, long capacityBytes) {
    // The contract checks exact-fit eviction by content bytes; the per-entry charge has its own
    // tests (tinyBlobsAreBoundedByMaxSize and the like), so the contract runs without it.
    Map<String, Object> settings =
        Map.of("path", root.toString(), "maxSize", capacityBytes, "blockSize", 1);
    BlobStore store = new FilesystemBlobStoreProvider().create(context(settings));
    latest.put(root, store);
    return store;
  }

  private StoreContext context(Map<String, ?> settings) {
    return StoreContext.newBuilder("fs", StoreSettings.of("blobStores.fs", settings))
        .clock(clock)
        .build();
  }

  /** Runs after the contract has closed the store: nothing half-written, files match the index. */
  @AfterEach
  void directoryMatchesTheIndex() {
    for (Map.Entry<Path, BlobStore> e : latest.entrySet()) {
      assertThat(StoreDirectories.files(e.getKey().resolve("tmp")))
          .as("unfinished uploads left in %s", e.getKey())
          .isEmpty();
      StoreDirectories.assertMatches(e.getKey().resolve("blobs"), e.getValue().stats());
    }
  }

  @Test
  void blobsLiveInShardedFilesNamedByHash() throws IOException {
    byte[] content = randomBytes(1234);

    Digest digest = put(content);

    Path file =
        current.resolve("blobs").resolve(digest.hash().substring(0, 2)).resolve(digest.hash());
    assertThat(file).hasBinaryContent(content);
  }

  @Test
  void openDeletesUnfinishedUploadsOnly() throws IOException {
    Path root = dir.resolve("leftovers");
    Files.createDirectories(root.resolve("tmp"));
    Path upload = Files.writeString(root.resolve("tmp/blob-123.tmp"), "half");
    Path acEntry = Files.writeString(root.resolve("tmp/ac-456.tmp"), "not mine");

    open(root, 1 << 20).close();

    assertThat(upload).doesNotExist();
    assertThat(acEntry).exists();
    Files.delete(acEntry);
  }

  @Test
  void openIndexesExistingBlobsAndIgnoresStrangers() throws IOException {
    Digest digest = put(randomBytes(5000));
    Path stranger =
        Files.writeString(
            Files.createDirectories(current.resolve("blobs/00")).resolve("not-a-hash"), "x");
    Path readme = Files.writeString(current.resolve("blobs/README"), "hands off");

    reopenStore(DEFAULT_CAPACITY_BYTES);

    assertThat(store().contains(digest)).isTrue();
    assertThat(store().stats().entries()).isEqualTo(1);
    assertThat(stranger).exists();
    assertThat(readme).exists();
    Files.delete(stranger);
    Files.delete(readme);
  }

  @Test
  void fileWithTheWrongLengthIsTreatedAsAbsent() throws IOException {
    Digest digest = put(randomBytes(5000));
    Path file = blobFile(digest);
    Files.write(file, new byte[10]);

    assertThat(store().read(digest, 0)).isEmpty();
    assertThat(store().contains(digest)).isFalse();
    assertThat(file).doesNotExist();
  }

  @Test
  void fileWithTheWrongLengthIsAbsentAfterReopen() throws IOException {
    Digest digest = put(randomBytes(5000));
    Files.write(blobFile(digest), new byte[10]);

    reopenStore(DEFAULT_CAPACITY_BYTES);

    assertThat(store().contains(digest)).isFalse();
    assertThat(store().read(digest, 0)).isEmpty();
    // The damaged file is indexed under its own length; remove it so the invariants hold.
    Files.delete(blobFile(digest));
    reopenStore(DEFAULT_CAPACITY_BYTES);
  }

  @Test
  void fileDeletedBehindTheStoresBackIsForgotten() throws IOException {
    Digest digest = put(randomBytes(5000));
    Files.delete(blobFile(digest));

    assertThat(store().read(digest, 0)).isEmpty();
    assertThat(store().contains(digest)).isFalse();
    assertThat(store().stats().entries()).isZero();
  }

  @Test
  void evictedBlobsFileIsDeletedWhileAnOpenReaderKeepsReading() throws IOException {
    openStore(2 * 4096);
    byte[] content = randomBytes(4096);
    Digest victim = put(content);

    try (InputStream reader = store().read(victim, 0).orElseThrow()) {
      put(randomBytes(4096));
      put(randomBytes(4096));
      assertThat(blobFile(victim)).doesNotExist();

      assertThat(reader.readAllBytes()).isEqualTo(content);
    }
  }

  /** A large victim leaves blobs/ at once and is deleted from tmp/ by the store's own thread. */
  @Test
  void largeEvictedFileIsDeletedInTheBackgroundWhileAnOpenReaderKeepsReading() throws IOException {
    int size = (int) FilesystemBlobStore.BACKGROUND_DELETE_MIN_BYTES;
    openStore(2L * size);
    byte[] content = randomBytes(size);
    Digest victim = put(content);

    try (InputStream reader = store().read(victim, 0).orElseThrow()) {
      put(randomBytes(size));
      put(randomBytes(size));
      assertThat(blobFile(victim)).doesNotExist();
      assertThat(store().read(victim, 0)).isEmpty();

      assertThat(reader.readAllBytes()).isEqualTo(content);
    }
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(() -> assertThat(StoreDirectories.files(current.resolve("tmp"))).isEmpty());
    assertThat(store().stats().evictions()).isEqualTo(1);
  }

  @Test
  void openDeletesEvictedFilesACrashLeftBehind() throws IOException {
    Path root = dir.resolve("evicted-leftovers");
    Files.createDirectories(root.resolve("tmp"));
    Path evicted = Files.writeString(root.resolve("tmp/evicted-" + "ab".repeat(32) + "-7"), "old");

    open(root, 1 << 20).close();

    assertThat(evicted).doesNotExist();
  }

  @Test
  void leastRecentlyUsedOrderSurvivesARestart() {
    int size = 4096;
    openStore(3L * size);
    Digest a = put(randomBytes(size));
    clock.advance(Duration.ofSeconds(1));
    Digest b = put(randomBytes(size));
    clock.advance(Duration.ofSeconds(1));
    Digest c = put(randomBytes(size));
    // A use more than a minute after the last recorded one refreshes the file's time.
    clock.advance(Duration.ofMinutes(2));
    assertThat(store().contains(a)).isTrue();

    reopenStore(3L * size);
    clock.advance(Duration.ofSeconds(1));
    Digest d = put(randomBytes(size));

    assertThat(store().findMissing(List.of(a, b, c, d))).containsExactly(b);
  }

  @Test
  void usesWithinAMinuteDoNotTouchTheFile() throws IOException {
    Digest digest = put(randomBytes(100));
    Path file = blobFile(digest);
    long written = Files.getLastModifiedTime(file).toMillis();

    clock.advance(Duration.ofSeconds(59));
    store().contains(digest);
    assertThat(Files.getLastModifiedTime(file).toMillis()).isEqualTo(written);

    clock.advance(Duration.ofSeconds(1));
    store().contains(digest);
    assertThat(Files.getLastModifiedTime(file).toMillis()).isEqualTo(clock.millis());
  }

  @Test
  void pathIsRequired() {
    assertThatThrownBy(() -> new FilesystemBlobStoreProvider().create(context(Map.of())))
        .isInstanceOf(ConfigException.class)
        .hasMessage("blobStores.fs.path: is required");
  }

  @Test
  void maxSizeDefaultsTo10GiB() {
    Path root = dir.resolve("defaults");
    try (BlobStore store =
        new FilesystemBlobStoreProvider().create(context(Map.of("path", root.toString())))) {
      assertThat(store.stats().capacityBytes()).isEqualTo(10L << 30);
    }
  }

  @Test
  void aPathThatCannotBeADirectoryIsAConfigurationError() throws IOException {
    Path file = Files.writeString(dir.resolve("a-file"), "x");

    assertThatThrownBy(
            () ->
                new FilesystemBlobStoreProvider()
                    .create(context(Map.of("path", file.resolve("store").toString()))))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("blobStores.fs.path: cannot create the directory")
        .hasMessageContaining(file.toString());
  }

  private Path blobFile(Digest digest) {
    return current.resolve("blobs").resolve(digest.hash().substring(0, 2)).resolve(digest.hash());
  }
}
