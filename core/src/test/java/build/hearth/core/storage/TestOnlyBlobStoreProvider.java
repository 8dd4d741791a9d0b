package build.hearth.core.storage;

import build.hearth.spi.storage.BlobStore;
import build.hearth.spi.storage.BlobStoreProvider;
import build.hearth.spi.storage.StoreContext;

/**
 * A provider that only the test class path registers, proving that discovery finds plugins outside
 * Hearth's own jars. It hands out a small memory store.
 */
public final class TestOnlyBlobStoreProvider extends BlobStoreProvider {

  @Override
  public String type() {
    return "test-only";
  }

  @Override
  public BlobStore create(StoreContext context) {
    return new MemoryBlobStore(context.name(), SizeSetting.maxSize(context.settings(), 1 << 20));
  }
}
