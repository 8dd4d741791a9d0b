package build.hearth.grpc;

import build.hearth.api.ActionCache;
import build.hearth.api.ContentAddressableStorage;
import build.hearth.core.Storage;
import build.hearth.spi.storage.ActionCacheStore;
import build.hearth.spi.storage.BlobStore;
import build.hearth.testing.transport.TransportContractTest;
import org.junit.jupiter.api.AfterEach;

/**
 * The transport suite over the real {@code memory} stores, opened lazily and closed after each
 * test; subclasses say how to start their transport and reach it.
 */
abstract class MemoryTransportContractTest extends TransportContractTest {
  private BlobStore blobs;
  private ActionCacheStore actionCacheStore;

  @Override
  protected ContentAddressableStorage newCas() {
    blobs = MemoryStores.blobStore();
    return Storage.cas(blobs);
  }

  @Override
  protected ActionCache newActionCache(ContentAddressableStorage cas) {
    actionCacheStore = MemoryStores.actionCacheStore();
    return Storage.actionCache(actionCacheStore, cas);
  }

  @AfterEach
  void closeStores() {
    if (actionCacheStore != null) {
      actionCacheStore.close();
    }
    if (blobs != null) {
      blobs.close();
    }
  }
}
