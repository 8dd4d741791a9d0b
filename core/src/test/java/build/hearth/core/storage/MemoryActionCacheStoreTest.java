package build.hearth.core.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import build.hearth.api.Digest;
import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import build.hearth.spi.storage.ActionCacheStore;
import build.hearth.spi.storage.StoreContext;
import build.hearth.spi.storage.StoreSettings;
import build.hearth.testing.ActionCacheStoreContractTest;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MemoryActionCacheStoreTest extends ActionCacheStoreContractTest {

  @Override
  protected ActionCacheStore newStore(long capacityBytes) {
    return create(Map.of("maxSize", capacityBytes));
  }

  @Override
  protected boolean evictsLeastRecentlyUsed() {
    return false;
  }

  @Test
  void defaultsTo64MiB() {
    try (ActionCacheStore store = create(Map.of())) {
      assertThat(store.stats().capacityBytes()).isEqualTo(64L << 20);
    }
  }

  @Test
  void refusesAnEntryLargerThanTheStore() {
    try (ActionCacheStore store = create(Map.of("maxSize", "1KiB"))) {
      assertThatThrownBy(() -> store.put(Digest.EMPTY, new byte[1025]))
          .isInstanceOfSatisfying(
              HearthException.class,
              e -> assertThat(e.code()).isEqualTo(StatusCode.RESOURCE_EXHAUSTED));
    }
  }

  private static ActionCacheStore create(Map<String, ?> settings) {
    StoreContext context =
        StoreContext.newBuilder("ac", StoreSettings.of("actionCaches.ac", settings)).build();
    return new MemoryActionCacheStoreProvider().create(context);
  }
}
