package build.hearth.testing;

import build.hearth.spi.storage.ActionCacheStore;
import org.junit.jupiter.api.Nested;

/** The suites pass against the reference stores, so a failure elsewhere is the store's fault. */
class ReferenceStoresTest {

  /**
   * The same reference suite that the broken stores of {@link ContractCatchesBrokenStoresTest}
   * vary.
   */
  @Nested
  class Blobs extends ContractCatchesBrokenStoresTest.Reference {}

  @Nested
  class ActionCache extends ActionCacheStoreContractTest {
    @Override
    protected ActionCacheStore newStore(long capacityBytes) {
      return new ReferenceActionCacheStore(capacityBytes);
    }
  }
}
