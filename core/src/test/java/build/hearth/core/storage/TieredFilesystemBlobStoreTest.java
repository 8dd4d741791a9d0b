package build.hearth.core.storage;

import build.hearth.spi.storage.BlobStore;
import build.hearth.testing.BlobStoreContractTest;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;

/**
 * A tiered store, a filesystem local tier over a memory shared tier, against the contract; the
 * shared tier has the suite's capacity and the local one a quarter of it, as in {@link
 * TieredMemoryBlobStoreTest}.
 */
class TieredFilesystemBlobStoreTest extends BlobStoreContractTest {
  @TempDir Path dir;
  private int opened;

  @Override
  protected BlobStore newStore(long capacityBytes) {
    Path local = dir.resolve("local-" + opened++);
    return TieredStores.open(
        Map.of(
            "local",
            Map.of(
                "type",
                "filesystem",
                "path",
                local.toString(),
                "maxSize",
                capacityBytes / 4,
                "blockSize",
                1),
            "shared",
            TieredStores.memory(capacityBytes)),
        Clock.systemUTC());
  }

  @Override
  protected boolean supportsBlobsLargerThanHeap() {
    // The shared tier is a memory store.
    return false;
  }
}
