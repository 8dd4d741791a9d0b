package build.hearth.grpc;

import build.hearth.spi.storage.ActionCacheStore;
import build.hearth.spi.storage.BlobStore;
import build.hearth.spi.storage.StoreContext;
import build.hearth.spi.storage.StoreProviderRegistry;
import build.hearth.spi.storage.StoreSettings;
import java.util.Map;

/**
 * The real {@code memory} stores that the tests' servers serve, opened through the provider
 * registry as a server's configuration would open them. The caller closes each store.
 */
final class MemoryStores {
  private MemoryStores() {}

  /** {@return a new, empty {@code memory} blob store, configured as {@code blobStores.cas}} */
  static BlobStore blobStore() {
    return registry()
        .createBlobStore(
            "memory",
            "blobStores.cas.type",
            0,
            StoreContext.newBuilder("cas", StoreSettings.of("blobStores.cas", Map.of())).build());
  }

  /** {@return a new, empty {@code memory} action cache, configured as {@code actionCaches.ac}} */
  static ActionCacheStore actionCacheStore() {
    return registry()
        .createActionCacheStore(
            "memory",
            "actionCaches.ac.type",
            0,
            StoreContext.newBuilder("ac", StoreSettings.of("actionCaches.ac", Map.of())).build());
  }

  private static StoreProviderRegistry registry() {
    return StoreProviderRegistry.discover(MemoryStores.class.getClassLoader());
  }
}
