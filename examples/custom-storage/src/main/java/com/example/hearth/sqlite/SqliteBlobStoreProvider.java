package com.example.hearth.sqlite;

import build.hearth.spi.storage.BlobStore;
import build.hearth.spi.storage.BlobStoreProvider;
import build.hearth.spi.storage.StoreContext;
import build.hearth.spi.storage.StoreSettings;

/**
 * The {@code sqlite} blob store: a CAS kept in one SQLite database file, in WAL mode, with blobs
 * stored as 256 KiB chunks so that blobs of any size stream, and evicted least recently used first.
 *
 * <p>Settings: {@code path} (required), the database file, created with its directory if missing;
 * {@code maxSize}, the most bytes of blobs it keeps (default {@code "10GiB"}). The file may be
 * shared with a {@code sqlite} action-cache store, but belongs to one blob store at a time.
 *
 * <pre>{@code
 * "blobStores": { "cas": { "type": "sqlite", "path": "/var/cache/hearth/hearth.db", "maxSize": "20GiB" } }
 * }</pre>
 *
 * <p>Stateless and thread-safe; each {@link #create} opens an independent store. A bad setting is a
 * {@link build.hearth.api.ConfigException} naming the field; database trouble later is a {@link
 * build.hearth.api.HearthException} (UNAVAILABLE when the file stays locked, INTERNAL otherwise).
 */
public final class SqliteBlobStoreProvider extends BlobStoreProvider {
  static final long DEFAULT_MAX_SIZE = 10L << 30;

  /** Called by {@link java.util.ServiceLoader}. */
  public SqliteBlobStoreProvider() {}

  @Override
  public String type() {
    return "sqlite";
  }

  @Override
  public BlobStore create(StoreContext context) {
    StoreSettings settings = context.settings();
    long maxSize = SqliteSettings.maxSize(settings, DEFAULT_MAX_SIZE);
    return SqliteBlobStore.open(SqliteDatabase.open(settings, SqliteSettings.PATH), maxSize);
  }
}
