package com.example.hearth.sqlite;

import static org.assertj.core.api.Assertions.assertThat;

import build.hearth.api.Digest;
import build.hearth.spi.storage.ActionCacheStore;
import build.hearth.spi.storage.BlobStore;
import build.hearth.spi.storage.StoreContext;
import build.hearth.spi.storage.StoreSettings;
import build.hearth.testing.ActionCacheStoreContractTest;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The SQLite action-cache store against Hearth's conformance suite, through its provider. */
class SqliteActionCacheStoreTest extends ActionCacheStoreContractTest {
  @TempDir Path dir;
  private Path current;
  private int opened;

  @Override
  protected ActionCacheStore newStore(long capacityBytes) {
    current = dir.resolve("store-" + opened++ + ".db");
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

  private static ActionCacheStore open(Path file, long capacityBytes) {
    StoreSettings settings =
        StoreSettings.of(
            "actionCacheStores.ac", Map.of("path", file.toString(), "maxSize", capacityBytes));
    ActionCacheStore store =
        new SqliteActionCacheStoreProvider()
            .create(StoreContext.newBuilder("ac", settings).build());
    settings.rejectUnknown("sqlite");
    return store;
  }

  /** A blob store and an action cache may share one database file, as the README configures. */
  @Test
  void sharesItsFileWithABlobStore() {
    Digest key = randomKey();
    byte[] entry = randomBytes(500);
    put(key, entry);

    try (BlobStore blobs = SqliteBlobStoreTest.open(current, 1 << 20)) {
      byte[] blob = randomBytes(1000);
      Digest digest = Digest.of(blob);
      try (BlobStore.Upload upload = blobs.startUpload(digest)) {
        upload.write(blob, 0, blob.length);
        upload.commit();
      }
      assertThat(blobs.contains(digest)).isTrue();
      assertThat(blobs.stats().sizeBytes()).isEqualTo(blob.length);
    }

    assertThat(store().get(key)).hasValueSatisfying(v -> assertThat(v).isEqualTo(entry));
    assertThat(store().stats().sizeBytes()).isEqualTo(entry.length);
  }
}
