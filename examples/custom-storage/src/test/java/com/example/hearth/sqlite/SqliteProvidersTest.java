package com.example.hearth.sqlite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import build.hearth.api.ConfigException;
import build.hearth.spi.storage.ActionCacheStore;
import build.hearth.spi.storage.BlobStore;
import build.hearth.spi.storage.StoreContext;
import build.hearth.spi.storage.StoreProviderRegistry;
import build.hearth.spi.storage.StoreSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The providers as Hearth finds and configures them: discovery, defaults and setting errors. */
class SqliteProvidersTest {
  @TempDir Path dir;

  @Test
  void serviceLoaderFindsBothStoresByTypeName() {
    StoreProviderRegistry registry = StoreProviderRegistry.discover(getClass().getClassLoader());
    Path file = dir.resolve("nested/dir/hearth.db");

    try (BlobStore blobs =
            registry.createBlobStore("sqlite", "blobStores.cas.type", 3, context("cas", file));
        ActionCacheStore ac =
            registry.createActionCacheStore(
                "sqlite", "actionCacheStores.ac.type", 7, context("ac", file))) {
      assertThat(blobs.stats().capacityBytes()).isEqualTo(10L << 30);
      assertThat(ac.stats().capacityBytes()).isEqualTo(1L << 30);
    }
    assertThat(file).exists();
  }

  @Test
  void pathIsRequired() {
    StoreSettings settings = StoreSettings.of("blobStores.cas", Map.of());

    assertThatThrownBy(
            () ->
                new SqliteBlobStoreProvider()
                    .create(StoreContext.newBuilder("cas", settings).build()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("blobStores.cas.path")
        .hasMessageContaining("is required");
  }

  @Test
  void maxSizeMustBeAPositiveSize() {
    StoreSettings zero =
        StoreSettings.of(
            "actionCacheStores.ac", Map.of("path", dir.resolve("a.db").toString(), "maxSize", 0L));
    StoreSettings words =
        StoreSettings.of(
            "actionCacheStores.ac",
            Map.of("path", dir.resolve("a.db").toString(), "maxSize", "lots"));

    assertThatThrownBy(() -> new SqliteActionCacheStoreProvider().create(context(zero)))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("actionCacheStores.ac.maxSize")
        .hasMessageContaining("positive");
    assertThatThrownBy(() -> new SqliteActionCacheStoreProvider().create(context(words)))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("actionCacheStores.ac.maxSize")
        .hasMessageContaining("\"10GB\"");
  }

  @Test
  void aFileThatIsNotADatabaseIsAConfigurationError() throws IOException {
    Path notADatabase = Files.writeString(dir.resolve("notes.txt"), "x".repeat(4096));
    StoreSettings settings =
        StoreSettings.of("blobStores.cas", Map.of("path", notADatabase.toString()));

    assertThatThrownBy(() -> new SqliteBlobStoreProvider().create(context(settings)))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("blobStores.cas.path")
        .hasMessageContaining(notADatabase.toString());
  }

  @Test
  void unknownSettingsAreReportedWithTheKnownOnes() {
    StoreSettings settings =
        StoreSettings.of(
            "blobStores.cas", Map.of("path", dir.resolve("b.db").toString(), "maxSise", "1GiB"));
    new SqliteBlobStoreProvider().create(context(settings)).close();

    assertThatThrownBy(() -> settings.rejectUnknown("sqlite"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("blobStores.cas.maxSise")
        .hasMessageContaining("maxSize, path");
  }

  private static StoreContext context(StoreSettings settings) {
    return StoreContext.newBuilder("store", settings).build();
  }

  private static StoreContext context(String name, Path file) {
    return StoreContext.newBuilder(
            name, StoreSettings.of("stores." + name, Map.of("path", file.toString())))
        .build();
  }
}
