package build.hearth.core.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import build.hearth.api.Digest;
import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import build.hearth.spi.storage.BlobStore;
import build.hearth.spi.storage.LocalBlobFiles;
import build.hearth.spi.storage.StoreHealth;
import build.hearth.spi.storage.StoreSettings;
import build.hearth.testing.FakeClock;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tiered store's rules, each checked on real stores: memory and filesystem tiers, seen through
 * a {@link ForwardingBlobStore} that counts what the tiered store asks of them or injects a fault.
 */
class TieredBlobStoreTest {
  private static final int BLOB = 64 * 1024;

  @TempDir Path dir;

  private final FakeClock clock = new FakeClock(Instant.parse("2026-12-07T10:00:00Z"));
  private final Random random = new Random(16);
  private BlobStore tiered;

  @AfterEach
  void closeStore() {
    if (tiered != null) {
      tiered.close();
    }
  }

  private byte[] bytes(int size) {
    byte[] content = new byte[size];
    random.nextBytes(content);
    return content;
  }

  private static MemoryBlobStore memory(String name, long capacity) {
    return new MemoryBlobStore(name, capacity, 0);
  }

  private FilesystemBlobStore filesystem(long capacity) {
    return FilesystemBlobStore.open(
        "main.local",
        StoreSettings.of("blobStores.main.local", java.util.Map.of()),
        dir,
        capacity,
        1,
        false,
        clock);
  }

  private TieredBlobStore tiered(BlobStore local, BlobStore shared) {
    TieredBlobStore store = TieredBlobStore.of("main", local, shared, new LocalFailures(clock));
    tiered = store;
    return store;
  }

  private static Digest put(BlobStore store, byte[] content) {
    Digest digest = Digest.of(content);
    try (BlobStore.Upload upload = store.startUpload(digest)) {
      upload.write(content, 0, content.length);
      upload.commit();
    }
    return digest;
  }

  private static Optional<byte[]> readAll(BlobStore store, Digest digest, long offset) {
    Optional<InputStream> in = store.read(digest, offset);
    if (in.isEmpty()) {
      return Optional.empty();
    }
    try (InputStream stream = in.get()) {
      return Optional.of(stream.readAllBytes());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private List<Path> leftoverUploads() throws IOException {
    try (Stream<Path> files = Files.list(dir.resolve("tmp"))) {
      return files.toList();
    }
  }

  // ---- health ----

  @Test
  void theSharedTiersHealthIsTheStoresWhenItIsUnavailable() {
    StoreHealth down = StoreHealth.unavailable("blobStores.main.shared: Redis does not answer");
    AtomicReference<StoreHealth> sharedHealth = new AtomicReference<>(StoreHealth.healthy());
    BlobStore shared =
        new ForwardingBlobStore(memory("shared", 1 << 20)) {
          @Override
          public StoreHealth health() {
            return sharedHealth.get();
          }
        };
    TieredBlobStore store = tiered(memory("local", 1 << 20), shared);

    assertThat(store.health().isHealthy()).isTrue();
    sharedHealth.set(down);
    assertThat(store.health()).isEqualTo(down);
    sharedHealth.set(StoreHealth.healthy());
    assertThat(store.health().isHealthy()).isTrue();
  }

  // ---- read-through ----

  @Test
  void aReadThatMissesLocallyFillsTheLocalTier() {
    MemoryBlobStore local = memory("local", 1 << 20);
    ForwardingBlobStore shared = new ForwardingBlobStore(memory("shared", 1 << 20));
    TieredBlobStore store = tiered(local, shared);
    byte[] content = bytes(BLOB);
    Digest digest = put(shared.delegate, content);

    assertThat(readAll(store, digest, 0)).hasValue(content);
    assertThat(local.contains(digest)).as("local tier after the read").isTrue();
    assertThat(readAll(store, digest, 0)).hasValue(content);
    assertThat(shared.reads.get()).as("reads the shared tier served").isEqualTo(1);
  }

  @Test
  void aReaderThatStopsAtTheSizeWithoutSeeingTheEndStillFills() throws IOException {
    MemoryBlobStore local = memory("local", 1 << 20);
    BlobStore shared = memory("shared", 1 << 20);
    TieredBlobStore store = tiered(local, shared);
    byte[] content = bytes(BLOB);
    Digest digest = put(shared, content);

    try (InputStream in = store.read(digest, 0).orElseThrow()) {
      assertThat(in.readNBytes(BLOB)).isEqualTo(content);
    }

    assertThat(local.contains(digest)).isTrue();
  }

  @Test
  void aReaderThatStopsHalfWayLeavesNothingInTheLocalTier() throws IOException {
    FilesystemBlobStore local = filesystem(1 << 20);
    BlobStore shared = memory("shared", 1 << 20);
    TieredBlobStore store = tiered(local, shared);
    byte[] content = bytes(BLOB);
    Digest digest = put(shared, content);

    try (InputStream in = store.read(digest, 0).orElseThrow()) {
      assertThat(in.readNBytes(BLOB / 2)).hasSize(BLOB / 2);
    }

    assertThat(local.contains(digest)).as("local tier after a half read").isFalse();
    assertThat(local.stats().sizeBytes()).isZero();
    assertThat(local.chargedBytes()).as("room still reserved by the abandoned fill").isZero();
    assertThat(leftoverUploads()).as("files left in the local tier's tmp/").isEmpty();
    assertThat(readAll(store, digest, 0)).hasValue(content);
    assertThat(local.contains(digest)).as("local tier after a whole read").isTrue();
  }

  @Test
  void aReadFromAnOffsetIsServedByTheSharedTierWithoutFilling() {
    MemoryBlobStore local = memory("local", 1 << 20);
    BlobStore shared = memory("shared", 1 << 20);
    TieredBlobStore store = tiered(local, shared);
    byte[] content = bytes(BLOB);
    Digest digest = put(shared, content);

    assertThat(readAll(store, digest, 100))
        .hasValue(java.util.Arrays.copyOfRange(content, 100, BLOB));
    assertThat(local.contains(digest)).isFalse();
  }

  @Test
  void bytesFromTheSharedTierThatAreNotTheBlobAreNeverKeptLocally() {
    MemoryBlobStore local = memory("local", 1 << 20);
    byte[] content = bytes(BLOB);
    Digest digest = Digest.of(content);
    byte[] rotten = content.clone();
    rotten[BLOB / 2] ^= 1;
    ForwardingBlobStore shared =
        new ForwardingBlobStore(memory("shared", 1 << 20)) {
          @Override
          public Optional<InputStream> read(Digest d, long offset) {
            return Optional.of(new ByteArrayInputStream(rotten));
          }
        };
    TieredBlobStore store = tiered(local, shared);

    assertThat(readAll(store, digest, 0)).hasValue(rotten);
    assertThat(local.contains(digest)).isFalse();
    assertThat(store.localFailures()).isEqualTo(1);
  }

  // ---- write-through ----

  @Test
  void aWriteGoesToBothTiers() {
    MemoryBlobStore local = memory("local", 1 << 20);
    MemoryBlobStore shared = memory("shared", 1 << 20);
    TieredBlobStore store = tiered(local, shared);

    Digest digest = put(store, bytes(BLOB));

    assertThat(shared.contains(digest)).isTrue();
    assertThat(local.contains(digest)).isTrue();
    assertThat(store.localFailures()).isZero();
  }

  @Test
  void aSharedTierFailureOnCommitIsAFailedWriteAndKeepsNothingLocally() throws IOException {
    FilesystemBlobStore local = filesystem(1 << 20);
    ForwardingBlobStore shared =
        new ForwardingBlobStore(memory("shared", 1 << 20)) {
          @Override
          public Upload startUpload(Digest digest) {
            Upload real = delegate.startUpload(digest);
            return new Upload() {
              @Override
              public void write(byte[] data, int offset, int length) {
                real.write(data, offset, length);
              }

              @Override
              public long written() {
                return real.written();
              }

              @Override
              public void commit() {
                throw new HearthException(StatusCode.UNAVAILABLE, "shared tier unreachable");
              }

              @Override
              public void close() {
                real.close();
              }
            };
          }
        };
    TieredBlobStore store = tiered(local, shared);
    byte[] content = bytes(BLOB);
    Digest digest = Digest.of(content);

    try (BlobStore.Upload upload = store.startUpload(digest)) {
      upload.write(content, 0, content.length);
      assertThatThrownBy(upload::commit)
          .isInstanceOfSatisfying(
              HearthException.class, e -> assertThat(e.code()).isEqualTo(StatusCode.UNAVAILABLE));
    }

    assertThat(store.contains(digest)).as("the tiered store after the failed write").isFalse();
    assertThat(local.contains(digest)).isFalse();
    assertThat(leftoverUploads()).isEmpty();
  }

  @Test
  void aSharedTierThatRefusesTheUploadRefusesItWithNothingStartedLocally() throws IOException {
    FilesystemBlobStore local = filesystem(1 << 20);
    ForwardingBlobStore shared =
        new ForwardingBlobStore(memory("shared", 1 << 20)) {
          @Override
          public Upload startUpload(Digest digest) {
            throw new HearthException(StatusCode.UNAVAILABLE, "shared tier unreachable");
          }
        };
    TieredBlobStore store = tiered(local, shared);

    assertThatThrownBy(() -> store.startUpload(Digest.of(bytes(10))))
        .isInstanceOf(HearthException.class)
        .hasMessageContaining("shared tier unreachable");
    assertThat(leftoverUploads()).isEmpty();
  }

  @Test
  void aLocalTierFailureIsStillAcknowledgedAndCounted() {
    ForwardingBlobStore local =
        new ForwardingBlobStore(memory("local", 1 << 20)) {
          @Override
          public Upload startUpload(Digest digest) {
            Upload real = delegate.startUpload(digest);
            return new Upload() {
              @Override
              public void write(byte[] data, int offset, int length) {
                throw new HearthException(StatusCode.UNAVAILABLE, "local disk broken");
              }

              @Override
              public long written() {
                return real.written();
              }

              @Override
              public void commit() {
                real.commit();
              }

              @Override
              public void close() {
                real.close();
              }
            };
          }
        };
    MemoryBlobStore shared = memory("shared", 1 << 20);
    TieredBlobStore store = tiered(local, shared);

    Digest digest = put(store, bytes(BLOB));

    assertThat(shared.contains(digest)).isTrue();
    assertThat(local.delegate.contains(digest)).isFalse();
    assertThat(store.localFailures()).isEqualTo(1);
    assertThat(store.contains(digest)).isTrue();
  }

  @Test
  void aLocalTierThatFailsToLookUpOrReadIsAnsweredByTheSharedTier() {
    ForwardingBlobStore local =
        new ForwardingBlobStore(memory("local", 1 << 20)) {
          @Override
          public boolean contains(Digest digest) {
            throw new HearthException(StatusCode.INTERNAL, "local disk broken");
          }

          @Override
          public Set<Digest> findMissing(java.util.Collection<Digest> digests) {
            throw new HearthException(StatusCode.INTERNAL, "local disk broken");
          }

          @Override
          public Optional<InputStream> read(Digest digest, long offset) {
            throw new HearthException(StatusCode.INTERNAL, "local disk broken");
          }
        };
    ForwardingBlobStore shared = new ForwardingBlobStore(memory("shared", 1 << 20));
    TieredBlobStore store = tiered(local, shared);
    byte[] content = bytes(BLOB);
    Digest digest = put(store, content);
    Digest absent = Digest.of(bytes(10));

    assertThat(store.contains(digest)).isTrue();
    assertThat(store.findMissing(List.of(digest, absent))).containsExactly(absent);
    assertThat(shared.findMissingCalls.get(0)).containsExactlyInAnyOrder(digest, absent);
    assertThat(readAll(store, digest, 0)).hasValue(content);
    assertThat(store.localFailures()).isEqualTo(3);
  }

  @Test
  void aBlobLargerThanTheLocalTierIsKeptInTheSharedTierOnly() {
    MemoryBlobStore local = memory("local", BLOB / 2);
    MemoryBlobStore shared = memory("shared", 1 << 20);
    TieredBlobStore store = tiered(local, shared);
    byte[] content = bytes(BLOB);

    Digest digest = put(store, content);

    assertThat(shared.contains(digest)).isTrue();
    assertThat(store.localFailures()).isEqualTo(1);
    assertThat(readAll(store, digest, 0)).hasValue(content);
  }

  // ---- find missing ----

  @Test
  void findMissingAsksTheSharedTierOnlyForWhatTheLocalTierLacks() {
    ForwardingBlobStore local = new ForwardingBlobStore(memory("local", 1 << 20));
    ForwardingBlobStore shared = new ForwardingBlobStore(memory("shared", 1 << 20));
    TieredBlobStore store = tiered(local, shared);
    Digest a = put(store, bytes(100));
    Digest b = put(store, bytes(200));
    Digest c = put(shared.delegate, bytes(300));
    Digest d = Digest.of(bytes(400));

    Set<Digest> missing = store.findMissing(List.of(a, b, c, d));

    assertThat(missing).containsExactly(d);
    assertThat(local.findMissingCalls).hasSize(1);
    assertThat(shared.findMissingCalls).as("calls to the shared tier").hasSize(1);
    assertThat(shared.findMissingCalls.get(0)).containsExactlyInAnyOrder(c, d);
    assertThat(shared.containsCalls.get()).isZero();
  }

  @Test
  void findMissingDoesNotAskTheSharedTierWhenTheLocalTierHasEverything() {
    MemoryBlobStore local = memory("local", 1 << 20);
    ForwardingBlobStore shared = new ForwardingBlobStore(memory("shared", 1 << 20));
    TieredBlobStore store = tiered(local, shared);
    Digest a = put(store, bytes(100));

    assertThat(store.findMissing(List.of(a))).isEmpty();
    assertThat(shared.findMissingCalls).isEmpty();
  }

  // ---- eviction ----

  @Test
  void aBlobTheLocalTierEvictedIsStillReadFromTheSharedTier() {
    MemoryBlobStore local = memory("local", BLOB);
    MemoryBlobStore shared = memory("shared", 1 << 20);
    TieredBlobStore store = tiered(local, shared);
    byte[] first = bytes(BLOB);
    Digest a = put(store, first);
    Digest b = put(store, bytes(BLOB));

    assertThat(local.contains(a)).as("evicted by the local tier").isFalse();
    assertThat(local.contains(b)).isTrue();
    assertThat(shared.contains(a)).as("the shared tier keeps it").isTrue();
    assertThat(store.findMissing(List.of(a, b))).isEmpty();
    assertThat(readAll(store, a, 0)).hasValue(first);
    assertThat(local.contains(a)).as("filled again by the read").isTrue();
  }

  @Test
  void aBlobTheSharedTierEvictedKeepsBeingServedFromTheLocalCopy() {
    MemoryBlobStore local = memory("local", 1 << 20);
    MemoryBlobStore shared = memory("shared", BLOB);
    TieredBlobStore store = tiered(local, shared);
    byte[] first = bytes(BLOB);
    Digest a = put(store, first);
    Digest b = put(store, bytes(BLOB));

    assertThat(shared.contains(a)).as("evicted by the shared tier").isFalse();
    assertThat(store.contains(a)).isTrue();
    assertThat(store.findMissing(List.of(a, b))).isEmpty();
    assertThat(readAll(store, a, 0)).hasValue(first);
  }

  // ---- stats, files, close ----

  @Test
  void statsAreTheSharedTiersAndTheLocalTierIsReportedApart() {
    MemoryBlobStore local = memory("local", BLOB);
    MemoryBlobStore shared = memory("shared", 1 << 20);
    TieredBlobStore store = tiered(local, shared);
    put(store, bytes(BLOB));
    put(store, bytes(BLOB));

    assertThat(store.stats()).isEqualTo(shared.stats());
    assertThat(store.stats().entries()).isEqualTo(2);
    assertThat(store.localStats()).isEqualTo(local.stats());
    assertThat(store.localStats().evictions()).isEqualTo(1);
  }

  @Test
  void aFilesystemLocalTierGivesFilesAndFetchesWhatOnlyTheSharedTierHas() throws IOException {
    FilesystemBlobStore local = filesystem(1 << 20);
    MemoryBlobStore shared = memory("shared", 1 << 20);
    TieredBlobStore store = tiered(local, shared);
    byte[] content = bytes(BLOB);
    Digest digest = put(shared, content);

    assertThat(store).isInstanceOf(LocalBlobFiles.class);
    Path file = ((LocalBlobFiles) store).pathOf(digest).orElseThrow();

    assertThat(Files.readAllBytes(file)).isEqualTo(content);
    assertThat(((LocalBlobFiles) store).pathOf(Digest.of(bytes(10)))).isEmpty();
  }

  @Test
  void aMemoryLocalTierGivesNoFiles() {
    assertThat(tiered(memory("local", 1 << 20), memory("shared", 1 << 20)))
        .isNotInstanceOf(LocalBlobFiles.class);
  }

  @Test
  void closingTheStoreClosesBothTiers() {
    MemoryBlobStore local = memory("local", 1 << 20);
    MemoryBlobStore shared = memory("shared", 1 << 20);
    TieredBlobStore store = tiered(local, shared);

    store.close();
    tiered = null;

    assertThatThrownBy(() -> local.contains(Digest.EMPTY)).isInstanceOf(HearthException.class);
    assertThatThrownBy(() -> shared.contains(Digest.EMPTY)).isInstanceOf(HearthException.class);
    assertThatThrownBy(() -> store.contains(Digest.EMPTY))
        .hasMessageContaining("blob store 'main' is closed");
  }
}
