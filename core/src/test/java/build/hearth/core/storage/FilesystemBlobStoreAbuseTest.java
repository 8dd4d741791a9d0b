package build.hearth.core.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import build.hearth.api.Digest;
import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import build.hearth.spi.storage.BlobStore.Upload;
import build.hearth.spi.storage.StoreContext;
import build.hearth.spi.storage.StoreSettings;
import build.hearth.testing.FakeClock;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The filesystem blob store against uploads that fill it before they commit, and floods of tiny
 * blobs: bytes in {@code tmp/} count against maxSize, and every file is charged its blocks.
 */
class FilesystemBlobStoreAbuseTest {
  @TempDir Path dir;

  private final FakeClock clock = new FakeClock(Instant.parse("2024-05-01T10:00:00Z"));

  private FilesystemBlobStore open(Path root, Map<String, Object> more) {
    Map<String, Object> settings = new java.util.HashMap<>(more);
    settings.put("path", root.toString());
    StoreContext context =
        StoreContext.newBuilder("fs", StoreSettings.of("blobStores.fs", settings))
            .clock(clock)
            .build();
    return (FilesystemBlobStore) new FilesystemBlobStoreProvider().create(context);
  }

  private static byte[] bytes(int n, int seed) {
    byte[] b = new byte[n];
    new java.util.Random(seed).nextBytes(b);
    return b;
  }

  private static void put(FilesystemBlobStore store, byte[] content) {
    try (Upload upload = store.startUpload(Digest.of(content))) {
      upload.write(content, 0, content.length);
      upload.commit();
    }
  }

  /** An upload's bytes take room as they arrive: an older blob is evicted before the commit. */
  @Test
  void bytesBeingWrittenCountAgainstMaxSize() throws IOException {
    try (FilesystemBlobStore store = open(dir.resolve("s"), Map.of("maxSize", "64KiB"))) {
      byte[] old = bytes(40 * 1024, 1);
      put(store, old);
      byte[] next = bytes(60 * 1024, 2);
      try (Upload upload = store.startUpload(Digest.of(next))) {
        upload.write(next, 0, 30 * 1024);

        assertThat(store.contains(Digest.of(old)))
            .as("older blob evicted for the upload")
            .isFalse();
        assertThat(store.chargedBytes()).isLessThanOrEqualTo(64 * 1024);
        upload.write(next, 30 * 1024, next.length - 30 * 1024);
        upload.commit();
      }
      assertThat(store.read(Digest.of(next), 0).orElseThrow().readAllBytes()).isEqualTo(next);
      assertThat(store.chargedBytes()).isEqualTo(60 * 1024);
    }
  }

  /**
   * When everything is reserved by uploads in progress, another upload is refused with the {@code
   * blob_store_full} limit naming maxSize; its temporary file is gone, and once the first upload
   * ends, there is room again.
   */
  @Test
  void aStoreFullOfUploadsRefusesWithBlobStoreFull() throws IOException {
    Path root = dir.resolve("s");
    try (FilesystemBlobStore store = open(root, Map.of("maxSize", "64KiB"))) {
      byte[] big = bytes(60 * 1024, 3);
      byte[] small = bytes(10 * 1024, 4);
      Upload hog = store.startUpload(Digest.of(big));
      hog.write(big, 0, 1);
      Upload refused = store.startUpload(Digest.of(small));

      assertThatThrownBy(() -> refused.write(small, 0, 1))
          .isInstanceOfSatisfying(
              HearthException.class,
              e -> {
                assertThat(e.code()).isEqualTo(StatusCode.RESOURCE_EXHAUSTED);
                assertThat(e.limit()).contains("blob_store_full");
                assertThat(e.retryAfter()).isPresent();
                assertThat(e.getMessage())
                    .contains("blob store 'fs'", "blobStores.fs.maxSize is 65536 bytes");
              });
      assertThat(StoreDirectories.files(root.resolve("tmp"))).hasSize(1);
      assertThat(store.chargedBytes()).isLessThanOrEqualTo(64 * 1024);

      hog.close();
      assertThat(StoreDirectories.files(root.resolve("tmp"))).isEmpty();
      assertThat(store.chargedBytes()).isZero();
      put(store, small);
      assertThat(store.contains(Digest.of(small))).isTrue();
    }
  }

  /** Leftovers in tmp/ are deleted at start and not counted; the index counts what is there. */
  @Test
  void reopeningCountsExactlyTheBlobFiles() throws IOException {
    Path root = dir.resolve("s");
    byte[] a = bytes(5000, 5);
    try (FilesystemBlobStore store = open(root, Map.of("maxSize", "1MiB"))) {
      put(store, a);
      Upload dying = store.startUpload(Digest.of(bytes(9000, 6)));
      dying.write(bytes(9000, 6), 0, 4000);
      // The process dies here: the upload never ends, and its file stays in tmp/.
    }
    Files.writeString(root.resolve("tmp/blob-crashed.tmp"), "half a blob");
    try (FilesystemBlobStore store = open(root, Map.of("maxSize", "1MiB"))) {
      assertThat(StoreDirectories.files(root.resolve("tmp"))).isEmpty();
      assertThat(store.stats().entries()).isEqualTo(1);
      assertThat(store.stats().sizeBytes()).isEqualTo(a.length);
      assertThat(store.chargedBytes()).isEqualTo(8192);
      StoreDirectories.assertMatches(root.resolve("blobs"), store.stats());
    }
  }

  /**
   * 200,000 one-byte blobs into a 4 MiB store: each file is charged a 4 KiB block, so at most 1,024
   * stay, the oldest go first, and the files on disk match the index.
   */
  @Test
  void tinyBlobsAreBoundedByMaxSize() {
    Path root = dir.resolve("s");
    long maxSize = 4 << 20;
    int count = 200_000;
    try (FilesystemBlobStore store = open(root, Map.of("maxSize", maxSize))) {
      Upload upload;
      for (int i = 0; i < count; i++) {
        upload = store.startUpload(HeapMeasure.tinyDigest(i));
        upload.write(new byte[] {1}, 0, 1);
        upload.commit();
        if (i % 1000 == 0) {
          assertThat(store.chargedBytes()).isLessThanOrEqualTo(maxSize);
        }
      }
      assertThat(store.chargedBytes()).isLessThanOrEqualTo(maxSize);
      assertThat(store.stats().entries()).isEqualTo(maxSize / FilesystemBlobStore.BLOCK_BYTES);
      assertThat(store.contains(HeapMeasure.tinyDigest(count - 1))).isTrue();
      assertThat(store.contains(HeapMeasure.tinyDigest(count - 1024))).isTrue();
      assertThat(store.contains(HeapMeasure.tinyDigest(count - 1025))).isFalse();
      StoreDirectories.assertMatches(root.resolve("blobs"), store.stats());
    }
  }

  /**
   * The heap the filesystem store's index costs per blob, key included, measured over 200,000
   * entries; the bound stated in {@link LruIndex} (plus a hash string's ~100 bytes), doubled.
   */
  @Test
  void anIndexEntryCostsTheStatedHeap() {
    int count = 200_000;
    long before = HeapMeasure.usedAfterGc();
    LruIndex<String> index = new LruIndex<>(Long.MAX_VALUE);
    for (int i = 0; i < count; i++) {
      String hash = HeapMeasure.tinyDigest(i).hash();
      index.claim(hash);
      index.put(hash, 1, i);
      index.release(hash);
    }
    long perEntry = (HeapMeasure.usedAfterGc() - before) / count;
    System.out.printf("filesystem blob store index: %d bytes of heap per blob%n", perEntry);
    assertThat(index.stats().entries()).isEqualTo(count);
    assertThat(perEntry).isLessThanOrEqualTo(2 * (LruIndex.HEAP_BYTES_PER_ENTRY + 100));
  }
}
