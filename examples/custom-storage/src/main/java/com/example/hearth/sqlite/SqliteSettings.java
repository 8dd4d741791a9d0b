package com.example.hearth.sqlite;

import build.hearth.spi.storage.StoreSettings;

/** The settings both SQLite stores share, read with errors that name the field. */
final class SqliteSettings {
  static final String PATH = "path";
  static final String MAX_SIZE = "maxSize";

  private SqliteSettings() {}

  /**
   * Reads {@code maxSize}: a positive size in bytes such as {@code "10GiB"}.
   *
   * @throws build.hearth.api.ConfigException naming {@code maxSize} if it is not positive
   */
  static long maxSize(StoreSettings settings, long defaultValue) {
    long maxSize = settings.bytes(MAX_SIZE).orElse(defaultValue);
    if (maxSize <= 0) {
      throw settings.error(MAX_SIZE, "must be a positive size such as \"10GiB\", found " + maxSize);
    }
    return maxSize;
  }
}
