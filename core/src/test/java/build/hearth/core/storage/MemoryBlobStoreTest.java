package build.hearth.core.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import build.hearth.api.Digest;
import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import build.hearth.spi.storage.BlobStore;
import build.hearth.spi.storage.StoreContext;
import build.hearth.spi.storage.StoreSettings;
import build.hearth.spi.storage.StoreStats;
import build.hearth.testing.BlobStoreContractTest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MemoryBlobStoreTest extends BlobStoreContractTest {

  @Override
  protected BlobStore newStore(long capacityBytes) {
    // The contract checks exact-fit eviction by content bytes; the per-entry charge has its own
    // tests (tinyBlobsAreBoundedByMaxSize and the like), so the contract runs without it.
    return create(Map.of("maxSize", capacityBytes, "entryOverhead", 0));
  }

  @Override
  protected boolean supportsBlobsLargerThanHeap() {
    return false;
  }

  /**
   * The regression behind the strict LRU: a client uploads, is told the blob is stored, and reads
   * it back (or calls Execute) at once. Every commit must be admitted, older blobs making room.
   */
  @Test
  void everyCommittedBlobIsReadableRightAfterItsCommit() {
    int size = 32 * 1024;
    BlobStore store = openStore(3L * size);
    List<Digest> digests = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      byte[] content = randomBytes(size);
      Digest digest = put(content);
      digests.add(digest);

      assertThat(readFully(digest, 0))
          .as("blob %d right after its commit", i)
          .hasValueSatisfying(bytes -> assertThat(bytes).isEqualTo(content));
    }

    assertThat(store.findMissing(digests))
        .containsExactlyInAnyOrderElementsOf(digests.subList(0, 7));
    assertThat(store.stats()).isEqualTo(new StoreStats(3, 3L * size, 3L * size, 7, 7L * size));
  }

  @Test
  void aBlobAsLargeAsTheStoreDisplacesFrequentlyReadOnes() {
    int size = 16 * 1024;
    BlobStore store = openStore(4L * size);
    List<Digest> small = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      small.add(put(randomBytes(size)));
    }
    // Make the small blobs look popular, which is what a frequency-based policy would protect.
    for (int round = 0; round < 20; round++) {
      for (Digest digest : small) {
        assertThat(readFully(digest, 0)).isPresent();
      }
    }

    byte[] large = randomBytes(4 * size);
    Digest digest = put(large);

    assertThat(readFully(digest, 0))
        .hasValueSatisfying(bytes -> assertThat(bytes).isEqualTo(large));
    assertThat(store.findMissing(small)).containsExactlyInAnyOrderElementsOf(small);
    assertThat(store.stats()).isEqualTo(new StoreStats(1, 4L * size, 4L * size, 4, 4L * size));
  }

  @Test
  void findMissingCountsAsAUse() {
    int size = 8 * 1024;
    BlobStore store = openStore(3L * size);
    Digest a = put(randomBytes(size));
    Digest b = put(randomBytes(size));
    Digest c = put(randomBytes(size));

    assertThat(store.findMissing(List.of(a))).isEmpty();
    Digest d = put(randomBytes(size));

    assertThat(store.findMissing(List.of(a, b, c, d))).containsExactly(b);
  }

  @Test
  void uploadWrittenInManySmallPiecesReadsBack() {
    byte[] content = randomBytes(200_000);
    Digest digest = Digest.of(content);
    try (BlobStore.Upload upload = store().startUpload(digest)) {
      for (int offset = 0; offset < content.length; offset += 7_000) {
        upload.write(content, offset, Math.min(7_000, content.length - offset));
      }
      commit(upload, digest);
    }

    assertThat(readFully(digest, 0))
        .hasValueSatisfying(bytes -> assertThat(bytes).isEqualTo(content));
  }

  @Test
  void defaultsTo256MiB() {
    try (BlobStore store = create(Map.of())) {
      assertThat(store.stats().capacityBytes()).isEqualTo(256L << 20);
    }
  }

  @Test
  void refusesBlobsLargerThanAnArrayEvenWhenMaxSizeAllowsThem() {
    try (BlobStore store = create(Map.of("maxSize", "64GiB"))) {
      Digest huge = new Digest(Digest.of(new byte[1]).hash(), 3L << 30);

      assertThatThrownBy(() -> store.startUpload(huge))
          .isInstanceOfSatisfying(
              HearthException.class,
              e -> {
                assertThat(e.code()).isEqualTo(StatusCode.RESOURCE_EXHAUSTED);
                assertThat(e.getMessage()).contains(huge.toString(), "filesystem store");
              });
    }
  }

  @Test
  void rejectsANonPositiveMaxSize() {
    assertThatThrownBy(() -> create(Map.of("maxSize", 0L)))
        .hasMessageStartingWith("blobStores.mem.maxSize: must be more than 0 bytes");
  }

  private static BlobStore create(Map<String, ?> settings) {
    StoreContext context =
        StoreContext.newBuilder("mem", StoreSettings.of("blobStores.mem", settings)).build();
    return new MemoryBlobStoreProvider().create(context);
  }
}
