package build.hearth.core.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import build.hearth.api.ConfigException;
import build.hearth.spi.storage.ActionCacheStore;
import build.hearth.spi.storage.BlobStore;
import build.hearth.spi.storage.StoreContext;
import build.hearth.spi.storage.StoreProviderRegistry;
import build.hearth.spi.storage.StoreSettings;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StoreProviderDiscoveryTest {
  private final StoreProviderRegistry registry =
      StoreProviderRegistry.discover(getClass().getClassLoader());

  @TempDir Path dir;

  @Test
  void findsTheBuiltInProvidersAndOneFromTheTestClassPath() {
    assertThat(registry.blobStoreTypes()).contains("filesystem", "memory", "tiered", "test-only");
    assertThat(registry.actionCacheStoreTypes()).contains("filesystem", "memory");
  }

  @Test
  void createsAStoreOfADiscoveredPluginType() {
    try (BlobStore store =
        registry.createBlobStore(
            "test-only", "blobStores.x.type", 3, context("blobStores.x", Map.of()))) {
      assertThat(store.stats().capacityBytes()).isEqualTo(1 << 20);
    }
  }

  @Test
  void createsEachBuiltInType() {
    Map<String, Object> fs = Map.of("path", dir.toString(), "maxSize", "1MiB");
    try (BlobStore memory =
            registry.createBlobStore("memory", "b.type", 0, context("blobStores.m", Map.of()));
        BlobStore files =
            registry.createBlobStore("filesystem", "b.type", 0, context("blobStores.f", fs));
        ActionCacheStore memoryAc =
            registry.createActionCacheStore(
                "memory", "a.type", 0, context("actionCaches.m", Map.of()));
        ActionCacheStore filesAc =
            registry.createActionCacheStore(
                "filesystem", "a.type", 0, context("actionCaches.f", fs))) {
      assertThat(files.stats().capacityBytes()).isEqualTo(1 << 20);
      assertThat(filesAc.stats().capacityBytes()).isEqualTo(1 << 20);
      assertThat(memory.stats().entries()).isZero();
      assertThat(memoryAc.stats().entries()).isZero();
    }
  }

  @Test
  void anUnknownTypeListsTheKnownOnes() {
    assertThatThrownBy(
            () ->
                registry.createBlobStore(
                    "s3", "blobStores.x.type", 7, context("blobStores.x", Map.of())))
        .isInstanceOfSatisfying(
            ConfigException.class,
            e -> {
              assertThat(e.path()).isEqualTo("blobStores.x.type");
              assertThat(e.line()).isEqualTo(7);
              assertThat(e.getMessage())
                  .contains("'s3'", "'filesystem'", "'memory'", "'test-only'");
            });
  }

  @Test
  void anUnknownSettingIsNamedWithTheKnownOnes() {
    StoreSettings settings =
        StoreSettings.of("blobStores.x", Map.of("maxSizee", "1GiB"), Map.of("maxSizee", 12));

    assertThatThrownBy(
            () ->
                registry.createBlobStore(
                    "memory",
                    "blobStores.x.type",
                    11,
                    StoreContext.newBuilder("x", settings).build()))
        .isInstanceOfSatisfying(
            ConfigException.class,
            e -> {
              assertThat(e.path()).isEqualTo("blobStores.x.maxSizee");
              assertThat(e.line()).isEqualTo(12);
              assertThat(e.getMessage()).contains("maxSize").contains("unknown field");
            });
  }

  @Test
  void anUnknownFilesystemSettingListsPathAndMaxSize() {
    Map<String, Object> values = Map.of("path", dir.toString(), "maxsize", "1GiB");

    assertThatThrownBy(
            () ->
                registry.createActionCacheStore(
                    "filesystem", "actionCaches.y.type", 0, context("actionCaches.y", values)))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("actionCaches.y.maxsize: unknown field")
        .hasMessageContaining("maxSize, path");
  }

  private static StoreContext context(String path, Map<String, ?> values) {
    return StoreContext.newBuilder(
            path.substring(path.indexOf('.') + 1), StoreSettings.of(path, values))
        .build();
  }
}
