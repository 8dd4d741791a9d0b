package build.hearth.core.storage;

import static org.assertj.core.api.Assertions.assertThat;

import build.hearth.api.Digest;
import build.hearth.spi.storage.ActionCacheStore;
import build.hearth.spi.storage.BlobStore;
import build.hearth.spi.storage.BlobStore.Upload;
import build.hearth.spi.storage.StoreContext;
import build.hearth.spi.storage.StoreSettings;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A store verified at rest: damaged blobs and entries are removed and counted, the rest kept. */
class StoreVerifierTest {
  @TempDir Path dir;

  @Test
  void removesDamagedBlobsAndEntriesAndKeepsTheRest() throws Exception {
    Map<String, Object> settings = Map.of("path", dir.toString());
    byte[] good = "good blob".getBytes(StandardCharsets.UTF_8);
    byte[] bad = "blob to corrupt".getBytes(StandardCharsets.UTF_8);
    Digest goodAc = Digest.of("action 1".getBytes(StandardCharsets.UTF_8));
    Digest badAc = Digest.of("action 2".getBytes(StandardCharsets.UTF_8));
    try (BlobStore blobs =
            new FilesystemBlobStoreProvider()
                .create(StoreContext.newBuilder("cas", StoreSettings.of("b", settings)).build());
        ActionCacheStore ac =
            new FilesystemActionCacheStoreProvider()
                .create(StoreContext.newBuilder("ac", StoreSettings.of("a", settings)).build())) {
      put(blobs, good);
      put(blobs, bad);
      ac.put(goodAc, new byte[] {1, 2, 3});
      ac.put(badAc, new byte[] {4, 5, 6});
    }
    Path badBlob =
        StoreFiles.shardedFile(dir.resolve("blobs"), Digest.of(bad).hash(), Digest.of(bad).hash());
    Files.write(badBlob, "blob to c0rrupt".getBytes(StandardCharsets.UTF_8));
    Path badEntry =
        StoreFiles.shardedFile(
            dir.resolve("ac"), badAc.hash(), badAc.hash() + "-" + badAc.sizeBytes());
    Files.write(badEntry, new byte[0]);

    StoreVerifier.Report report = StoreVerifier.verify(dir);

    assertThat(report).isEqualTo(new StoreVerifier.Report(4, 2, 2, bad.length));
    assertThat(badBlob).doesNotExist();
    assertThat(badEntry).doesNotExist();
    assertThat(StoreVerifier.verify(dir)).isEqualTo(new StoreVerifier.Report(2, 2, 0, 0));
  }

  private static void put(BlobStore store, byte[] content) {
    try (Upload upload = store.startUpload(Digest.of(content))) {
      upload.write(content, 0, content.length);
      upload.commit();
    }
  }

  @Test
  void theDirectoryOfATieredStoreIsItsLocalTiers() {
    Map<String, Object> local = Map.of("type", "filesystem", "path", dir.toString());

    assertThat(
            StoreVerifier.directoryOf(
                "tiered",
                StoreSettings.of(
                    "blobStores.main", Map.of("local", local, "shared", Map.of("type", "memory")))))
        .hasValue(dir);
    assertThat(
            StoreVerifier.directoryOf(
                "tiered",
                StoreSettings.of(
                    "blobStores.main", Map.of("local", Map.of("type", "memory"), "shared", local))))
        .as("a shared tier is verified by itself")
        .isEmpty();
    assertThat(
            StoreVerifier.directoryOf(
                "filesystem", StoreSettings.of("blobStores.fs", Map.of("path", dir.toString()))))
        .hasValue(dir);
    assertThat(StoreVerifier.directoryOf("memory", StoreSettings.of("blobStores.m", Map.of())))
        .isEmpty();
  }
}
