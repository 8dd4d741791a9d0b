package build.hearth.core.storage;

import build.hearth.spi.storage.BlobStore;
import build.hearth.testing.BlobStoreContractTest;
import java.time.Clock;
import java.util.Map;

/**
 * A tiered store, memory over memory, against the contract. The shared tier has the capacity the
 * suite asks for, since the shared tier decides what a tiered store holds and reports; the local
 * tier is a quarter of it, a cache in front, as on a real server.
 */
class TieredMemoryBlobStoreTest extends BlobStoreContractTest {

  @Override
  protected BlobStore newStore(long capacityBytes) {
    return TieredStores.open(
        Map.of(
            "local", TieredStores.memory(capacityBytes / 4),
            "shared", TieredStores.memory(capacityBytes)),
        Clock.systemUTC());
  }

  @Override
  protected boolean supportsBlobsLargerThanHeap() {
    return false;
  }
}
