package build.hearth.testing;

import build.hearth.spi.storage.ActionCacheStore;
import build.hearth.spi.storage.BlobStore;
import org.junit.jupiter.api.Nested;

/** The suites pass against the reference stores, so a failure elsewhere is the store's fault. */
class ReferenceStoresTest {

  @Nested
  class Blobs extends BlobStoreContractTest {
    @Override
    protected BlobStore newStore(long capacityBytes) {
      return new ReferenceBlobStore(capacityBytes);
    }

    @Override
    protected boolean supportsBlobsLargerThanHeap() {
      return false;
    }
  }

  @Nested
  class ActionCache extends ActionCacheStoreContractTest {
    @Override
    protected ActionCacheStore newStore(long capacityBytes) {
      return new ReferenceActionCacheStore(capacityBytes);
    }
  }
}
