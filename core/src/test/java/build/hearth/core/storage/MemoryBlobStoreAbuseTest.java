package build.hearth.core.storage;

import static org.assertj.core.api.Assertions.assertThat;

import build.hearth.api.Digest;
import build.hearth.spi.storage.BlobStore.Upload;
import build.hearth.spi.storage.StoreContext;
import build.hearth.spi.storage.StoreSettings;
import build.hearth.spi.storage.StoreStats;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The memory blob store against clients that promise much and send little, or send tiny blobs. */
class MemoryBlobStoreAbuseTest {
  private static MemoryBlobStore create(Map<String, ?> settings) {
    StoreContext context =
        StoreContext.newBuilder("mem", StoreSettings.of("blobStores.mem", settings)).build();
    return (MemoryBlobStore) new MemoryBlobStoreProvider().create(context);
  }

  /**
   * 64 uploads each declare the largest blob a store takes (about 2 GiB, 128 GiB in all, far above
   * any test heap) and send one byte: each holds about that byte, not the declared size.
   */
  @Test
  void anUploadHoldsTheBytesThatArrivedNotTheDeclaredSize() {
    try (MemoryBlobStore store = create(Map.of("maxSize", "4GiB"))) {
      List<Upload> uploads = new ArrayList<>();
      long before = HeapMeasure.usedAfterGc();
      for (int i = 0; i < 64; i++) {
        Digest huge = new Digest(HeapMeasure.tinyDigest(i).hash(), MemoryBlobStore.MAX_BLOB_BYTES);
        Upload upload = store.startUpload(huge);
        upload.write(new byte[] {42}, 0, 1);
        uploads.add(upload);
      }
      long held = HeapMeasure.usedAfterGc() - before;

      assertThat(held).as("heap held by 64 one-byte uploads").isLessThan(1 << 20);
      uploads.forEach(Upload::close);
    }
  }

  /** A blob whose bytes arrive in many pieces grows its buffer and commits whole. */
  @Test
  void aBlobSentInPiecesCommitsWhole() throws Exception {
    byte[] content = new byte[100_003];
    new java.util.Random(7).nextBytes(content);
    Digest digest = Digest.of(content);
    try (MemoryBlobStore store = create(Map.of("maxSize", "1MiB"))) {
      try (Upload upload = store.startUpload(digest)) {
        for (int offset = 0; offset < content.length; offset += 997) {
          upload.write(content, offset, Math.min(997, content.length - offset));
        }
        upload.commit();
      }
      assertThat(store.read(digest, 0).orElseThrow().readAllBytes()).isEqualTo(content);
    }
  }

  /**
   * 200,000 one-byte blobs: first into a store large enough for all of them, measuring the heap
   * each costs, which must stay within the charge the store counts for it; then into a small store,
   * whose charged total stays within maxSize, evicting the oldest first.
   */
  @Test
  void tinyBlobsAreBoundedByMaxSize() {
    int count = 200_000;
    long charge = 1 + ByteBoundedCache.ENTRY_OVERHEAD_BYTES;
    long before = HeapMeasure.usedAfterGc();
    try (MemoryBlobStore store = create(Map.of("maxSize", count * charge))) {
      for (int i = 0; i < count; i++) {
        put(store, HeapMeasure.tinyDigest(i));
      }
      long perEntry = (HeapMeasure.usedAfterGc() - before) / count;
      System.out.printf("memory blob store: %d bytes of heap per 1-byte blob%n", perEntry);
      assertThat(store.stats().entries()).isEqualTo(count);
      // The charge is an honest upper bound of what an entry costs the heap.
      assertThat(perEntry).as("heap bytes per 1-byte blob").isLessThanOrEqualTo(charge);
    }

    long maxSize = 1 << 20;
    try (MemoryBlobStore store = create(Map.of("maxSize", maxSize))) {
      for (int i = 0; i < count; i++) {
        put(store, HeapMeasure.tinyDigest(i));
        if (i % 1000 == 0) {
          assertThat(store.chargedBytes()).isLessThanOrEqualTo(maxSize);
        }
      }
      StoreStats stats = store.stats();
      assertThat(store.chargedBytes()).isLessThanOrEqualTo(maxSize);
      assertThat(stats.entries()).isEqualTo(maxSize / charge);
      assertThat(store.contains(HeapMeasure.tinyDigest(count - 1))).isTrue();
      assertThat(store.contains(HeapMeasure.tinyDigest((int) (count - stats.entries())))).isTrue();
      assertThat(store.contains(HeapMeasure.tinyDigest((int) (count - stats.entries() - 1))))
          .isFalse();
      assertThat(store.contains(HeapMeasure.tinyDigest(0))).isFalse();
    }
  }

  private static void put(MemoryBlobStore store, Digest digest) {
    try (Upload upload = store.startUpload(digest)) {
      upload.write(new byte[] {1}, 0, 1);
      upload.commit();
    }
  }
}
