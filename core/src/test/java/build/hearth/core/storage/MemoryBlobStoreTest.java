package build.hearth.core.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import build.hearth.api.Digest;
import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import build.hearth.spi.storage.BlobStore;
import build.hearth.spi.storage.StoreContext;
import build.hearth.spi.storage.StoreSettings;
import build.hearth.testing.BlobStoreContractTest;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MemoryBlobStoreTest extends BlobStoreContractTest {

  @Override
  protected BlobStore newStore(long capacityBytes) {
    return create(Map.of("maxSize", capacityBytes));
  }

  @Override
  protected boolean supportsBlobsLargerThanHeap() {
    return false;
  }

  @Override
  protected boolean evictsLeastRecentlyUsed() {
    return false;
  }

  @Test
  void defaultsTo256MiB() {
    try (BlobStore store = create(Map.of())) {
      assertThat(store.stats().capacityBytes()).isEqualTo(256L << 20);
    }
  }

  @Test
  void refusesBlobsLargerThanAnArrayEvenWhenMaxSizeAllowsThem() {
    try (BlobStore store = create(Map.of("maxSize", "64GiB"))) {
      Digest huge = new Digest(Digest.of(new byte[1]).hash(), 3L << 30);

      assertThatThrownBy(() -> store.startUpload(huge))
          .isInstanceOfSatisfying(
              HearthException.class,
              e -> {
                assertThat(e.code()).isEqualTo(StatusCode.RESOURCE_EXHAUSTED);
                assertThat(e.getMessage()).contains(huge.toString(), "filesystem store");
              });
    }
  }

  @Test
  void rejectsANonPositiveMaxSize() {
    assertThatThrownBy(() -> create(Map.of("maxSize", 0L)))
        .hasMessageStartingWith("blobStores.mem.maxSize: must be more than 0 bytes");
  }

  private static BlobStore create(Map<String, ?> settings) {
    StoreContext context =
        StoreContext.newBuilder("mem", StoreSettings.of("blobStores.mem", settings)).build();
    return new MemoryBlobStoreProvider().create(context);
  }
}
