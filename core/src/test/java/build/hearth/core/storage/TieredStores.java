package build.hearth.core.storage;

import build.hearth.spi.storage.BlobStore;
import build.hearth.spi.storage.StoreContext;
import build.hearth.spi.storage.StoreProviderRegistry;
import build.hearth.spi.storage.StoreSettings;
import java.time.Clock;
import java.util.List;
import java.util.Map;

/** Opens tiered stores the way a configuration does: nested store objects, through a registry. */
final class TieredStores {
  static final StoreProviderRegistry REGISTRY =
      StoreProviderRegistry.of(
          List.of(
              new MemoryBlobStoreProvider(),
              new FilesystemBlobStoreProvider(),
              new TieredBlobStoreProvider()),
          List.of());

  private TieredStores() {}

  /** A tiered store named {@code main} with these settings, as under {@code blobStores.main}. */
  static BlobStore open(Map<String, ?> settings, Clock clock) {
    StoreContext context =
        StoreContext.newBuilder("main", StoreSettings.of("blobStores.main", settings))
            .clock(clock)
            .build();
    return REGISTRY.createBlobStore("tiered", "blobStores.main.type", 0, context);
  }

  /** A memory store's settings that count content bytes only, as the contract expects. */
  static Map<String, Object> memory(long maxSize) {
    return Map.of("type", "memory", "maxSize", maxSize, "entryOverhead", 0);
  }
}
