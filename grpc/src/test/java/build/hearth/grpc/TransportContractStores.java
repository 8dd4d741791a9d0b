package build.hearth.grpc;

import build.hearth.api.ActionCache;
import build.hearth.api.ContentAddressableStorage;
import build.hearth.core.Storage;
import build.hearth.spi.storage.ActionCacheStore;
import build.hearth.spi.storage.BlobStore;
import build.hearth.spi.storage.StoreContext;
import build.hearth.spi.storage.StoreProviderRegistry;
import build.hearth.spi.storage.StoreSettings;
import java.util.Map;

/** The real {@code memory} stores behind the transport contract tests, opened lazily. */
final class TransportContractStores implements AutoCloseable {
  private BlobStore blobs;
  private ActionCacheStore actionCacheStore;

  ContentAddressableStorage cas() {
    blobs =
        registry()
            .createBlobStore(
                "memory",
                "blobStores.cas.type",
                0,
                StoreContext.newBuilder("cas", StoreSettings.of("blobStores.cas", Map.of()))
                    .build());
    return Storage.cas(blobs);
  }

  ActionCache actionCache(ContentAddressableStorage cas) {
    actionCacheStore =
        registry()
            .createActionCacheStore(
                "memory",
                "actionCaches.ac.type",
                0,
                StoreContext.newBuilder("ac", StoreSettings.of("actionCaches.ac", Map.of()))
                    .build());
    return Storage.actionCache(actionCacheStore, cas);
  }

  @Override
  public void close() {
    if (actionCacheStore != null) {
      actionCacheStore.close();
    }
    if (blobs != null) {
      blobs.close();
    }
  }

  private static StoreProviderRegistry registry() {
    return StoreProviderRegistry.discover(TransportContractStores.class.getClassLoader());
  }
}
