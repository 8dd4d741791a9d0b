package com.example.hearth.sqlite;

import build.hearth.spi.storage.ActionCacheStore;
import build.hearth.spi.storage.ActionCacheStoreProvider;
import build.hearth.spi.storage.StoreContext;
import build.hearth.spi.storage.StoreSettings;

/**
 * The {@code sqlite} action-cache store: one row per entry in a SQLite database file, in WAL mode,
 * evicted least recently used first.
 *
 * <p>Settings: {@code path} (required), the database file, created with its directory if missing
 * and possibly the same file as a {@code sqlite} blob store's; {@code maxSize}, the most bytes of
 * entries it keeps (default {@code "1GiB"}).
 *
 * <pre>{@code
 * "actionCacheStores": { "ac": { "type": "sqlite", "path": "/var/cache/hearth/hearth.db" } }
 * }</pre>
 *
 * <p>Stateless and thread-safe; each {@link #create} opens an independent store. A bad setting is a
 * {@link build.hearth.api.ConfigException} naming the field; database trouble later is a {@link
 * build.hearth.api.HearthException} (UNAVAILABLE when the file stays locked, INTERNAL otherwise).
 */
public final class SqliteActionCacheStoreProvider extends ActionCacheStoreProvider {
  static final long DEFAULT_MAX_SIZE = 1L << 30;

  /** Called by {@link java.util.ServiceLoader}. */
  public SqliteActionCacheStoreProvider() {}

  @Override
  public String type() {
    return "sqlite";
  }

  @Override
  public ActionCacheStore create(StoreContext context) {
    StoreSettings settings = context.settings();
    long maxSize = SqliteSettings.maxSize(settings, DEFAULT_MAX_SIZE);
    return SqliteActionCacheStore.open(SqliteDatabase.open(settings, SqliteSettings.PATH), maxSize);
  }
}
