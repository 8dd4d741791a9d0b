package build.hearth.core.storage;

import static org.assertj.core.api.Assertions.assertThat;

import build.hearth.api.Digest;
import build.hearth.spi.storage.ActionCacheStore;
import build.hearth.spi.storage.BlobStore;
import build.hearth.spi.storage.StoreContext;
import build.hearth.spi.storage.StoreSettings;
import build.hearth.testing.ActionCacheStoreContractTest;
import build.hearth.testing.FakeClock;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The filesystem action-cache store against the contract, plus its layout and restarts. */
class FilesystemActionCacheStoreTest extends ActionCacheStoreContractTest {
  @TempDir Path dir;

  private final FakeClock clock = new FakeClock(Instant.parse("2024-05-01T10:00:00Z"));
  private final Map<Path, ActionCacheStore> latest = new LinkedHashMap<>();
  private Path current;
  private int opened;

  @Override
  protected ActionCacheStore newStore(long capacityBytes) {
    current = dir.resolve("store-" + opened++);
    return open(current, capacityBytes);
  }

  @Override
  protected ActionCacheStore reopen(long capacityBytes) {
    return open(current, capacityBytes);
  }

  @Override
  protected boolean survivesReopen() {
    return true;
  }

  private ActionCacheStore open(Path root, long capacityBytes) {
    ActionCacheStore store =
        new FilesystemActionCacheStoreProvider()
            .create(
                context(Map.of("path", root.toString(), "maxSize", capacityBytes, "blockSize", 1)));
    latest.put(root, store);
    return store;
  }

  private StoreContext context(Map<String, ?> settings) {
    return StoreContext.newBuilder("fs", StoreSettings.of("actionCaches.fs", settings))
        .clock(clock)
        .build();
  }

  @AfterEach
  void directoryMatchesTheIndex() {
    for (Map.Entry<Path, ActionCacheStore> e : latest.entrySet()) {
      assertThat(StoreDirectories.files(e.getKey().resolve("tmp"))).isEmpty();
      StoreDirectories.assertMatches(
          e.getKey().resolve("ac"), e.getValue().stats(), ActionCacheEntryFrame.HEADER_BYTES);
    }
  }

  @Test
  void entriesLiveInShardedFilesNamedByDigest() {
    Digest key = randomKey();
    byte[] entry = randomBytes(321);

    put(key, entry);

    Path file =
        current.resolve("ac").resolve(key.hash().substring(0, 2)).resolve(key.hash() + "-32");
    assertThat(file).hasBinaryContent(ActionCacheEntryFrame.frame(entry));
  }

  @Test
  void sharesADirectoryWithTheBlobStore() {
    Digest key = randomKey();
    put(key, randomBytes(100));
    StoreSettings blobSettings =
        StoreSettings.of("blobStores.fs", Map.of("path", current.toString()));

    try (BlobStore blobs =
        new FilesystemBlobStoreProvider()
            .create(StoreContext.newBuilder("fs", blobSettings).clock(clock).build())) {
      assertThat(blobs.stats().entries()).isZero();
    }

    reopenStore(DEFAULT_CAPACITY_BYTES);
    assertThat(store().get(key)).isPresent();
  }

  @Test
  void entryDeletedBehindTheStoresBackIsForgotten() throws IOException {
    Digest key = randomKey();
    put(key, randomBytes(100));
    Files.delete(
        current.resolve("ac").resolve(key.hash().substring(0, 2)).resolve(key.hash() + "-32"));

    assertThat(store().get(key)).isEmpty();
    assertThat(store().stats().entries()).isZero();
  }

  @Test
  void leastRecentlyUsedOrderSurvivesARestart() {
    openStore(3 * 100);
    Digest a = randomKey();
    Digest b = randomKey();
    Digest c = randomKey();
    put(a, randomBytes(100));
    clock.advance(Duration.ofSeconds(1));
    put(b, randomBytes(100));
    clock.advance(Duration.ofSeconds(1));
    put(c, randomBytes(100));
    clock.advance(Duration.ofMinutes(2));
    assertThat(store().get(a)).isPresent();

    reopenStore(3 * 100);
    put(randomKey(), randomBytes(100));

    assertThat(store().get(b)).isEmpty();
    assertThat(store().get(a)).isPresent();
    assertThat(store().get(c)).isPresent();
  }

  private Path entryFile(Digest key) {
    return current.resolve("ac").resolve(key.hash().substring(0, 2)).resolve(key.hash() + "-32");
  }

  /** What a crash or a bad disk may leave, each written over a good entry's file. */
  private static Map<String, java.util.function.UnaryOperator<byte[]>> damages() {
    Map<String, java.util.function.UnaryOperator<byte[]>> damages = new LinkedHashMap<>();
    damages.put("empty", good -> new byte[0]);
    damages.put("cut inside the header", good -> java.util.Arrays.copyOf(good, 9));
    damages.put("cut inside the entry", good -> java.util.Arrays.copyOf(good, good.length - 1));
    damages.put(
        "a byte changed",
        good -> {
          byte[] bad = good.clone();
          bad[bad.length - 3] ^= 0x10;
          return bad;
        });
    damages.put(
        "no header (an older Hearth's entry)",
        good ->
            java.util.Arrays.copyOfRange(good, ActionCacheEntryFrame.HEADER_BYTES, good.length));
    return damages;
  }

  @Test
  void aDamagedEntryIsAMissAndIsRemoved() throws IOException {
    for (Map.Entry<String, java.util.function.UnaryOperator<byte[]>> damage :
        damages().entrySet()) {
      Digest key = randomKey();
      put(key, randomBytes(200));
      Path file = entryFile(key);
      Files.write(file, damage.getValue().apply(Files.readAllBytes(file)));

      assertThat(store().get(key)).as(damage.getKey()).isEmpty();
      assertThat(file).as(damage.getKey()).doesNotExist();
      assertThat(store().stats().entries()).as(damage.getKey()).isZero();
    }
  }

  /** A file cut shorter than its header is deleted when the store opens, not counted. */
  @Test
  void aFileShorterThanTheHeaderIsDeletedOnOpen() throws IOException {
    Digest kept = randomKey();
    Digest cut = randomKey();
    put(kept, randomBytes(200));
    put(cut, randomBytes(200));
    Path file = entryFile(cut);
    Files.write(file, java.util.Arrays.copyOf(Files.readAllBytes(file), 5));

    reopenStore(DEFAULT_CAPACITY_BYTES);

    assertThat(file).doesNotExist();
    assertThat(store().stats().entries()).isEqualTo(1);
    assertThat(store().stats().sizeBytes()).isEqualTo(200);
  }

  @Test
  void anEntryFromBeforeACrashIsServedWholeAfterAReopen() throws IOException {
    Digest key = randomKey();
    byte[] entry = randomBytes(200);
    put(key, entry);

    reopenStore(DEFAULT_CAPACITY_BYTES);

    assertThat(store().get(key)).hasValueSatisfying(e -> assertThat(e).isEqualTo(entry));
    assertThat(store().stats().sizeBytes()).isEqualTo(200);
  }
}
