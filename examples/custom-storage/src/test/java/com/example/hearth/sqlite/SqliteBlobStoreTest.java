package com.example.hearth.sqlite;

import static org.assertj.core.api.Assertions.assertThat;

import build.hearth.api.Digest;
import build.hearth.spi.storage.BlobStore;
import build.hearth.spi.storage.StoreContext;
import build.hearth.spi.storage.StoreSettings;
import build.hearth.testing.BlobStoreContractTest;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The SQLite blob store against Hearth's conformance suite, through its provider as Hearth opens
 * it, plus what is particular to it: blobs that span chunks.
 */
class SqliteBlobStoreTest extends BlobStoreContractTest {
  @TempDir Path dir;
  private Path current;
  private int opened;

  @Override
  protected BlobStore newStore(long capacityBytes) {
    current = dir.resolve("store-" + opened++ + ".db");
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

  static BlobStore open(Path file, long capacityBytes) {
    StoreSettings settings =
        StoreSettings.of(
            "blobStores.cas", Map.of("path", file.toString(), "maxSize", capacityBytes));
    BlobStore store =
        new SqliteBlobStoreProvider().create(StoreContext.newBuilder("cas", settings).build());
    settings.rejectUnknown("sqlite");
    return store;
  }

  @Test
  void readsCrossChunkBoundariesFromAnyOffset() throws IOException {
    int chunk = SqliteBlobStore.CHUNK_BYTES;
    byte[] content = randomBytes(2 * chunk + 17);
    Digest digest = put(content);

    for (int offset : new int[] {chunk - 1, chunk, chunk + 1, 2 * chunk, 2 * chunk + 16}) {
      try (InputStream in = store().read(digest, offset).orElseThrow()) {
        byte[] rest = in.readAllBytes();
        assertThat(rest).hasSize(content.length - offset);
        assertThat(rest[0]).isEqualTo(content[offset]);
      }
    }
  }

  @Test
  void blobExactlyOneChunkLongRoundTrips() {
    byte[] content = randomBytes(SqliteBlobStore.CHUNK_BYTES);

    Digest digest = put(content);

    assertThat(readFully(digest, 0)).hasValueSatisfying(b -> assertThat(b).isEqualTo(content));
  }
}
