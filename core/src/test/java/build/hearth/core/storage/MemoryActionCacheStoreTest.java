package build.hearth.core.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import build.hearth.api.Digest;
import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import build.hearth.spi.storage.ActionCacheStore;
import build.hearth.spi.storage.StoreContext;
import build.hearth.spi.storage.StoreSettings;
import build.hearth.spi.storage.StoreStats;
import build.hearth.testing.ActionCacheStoreContractTest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MemoryActionCacheStoreTest extends ActionCacheStoreContractTest {

  @Override
  protected ActionCacheStore newStore(long capacityBytes) {
    // The contract checks exact-fit eviction by content bytes; the per-entry charge has its own
    // tests (tinyBlobsAreBoundedByMaxSize and the like), so the contract runs without it.
    return create(Map.of("maxSize", capacityBytes, "entryOverhead", 0));
  }

  @Test
  void everyPutIsReadableRightAfterIt() {
    int size = 1024;
    ActionCacheStore store = openStore(3L * size);
    List<Digest> keys = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      Digest key = randomKey();
      byte[] entry = randomBytes(size);
      put(key, entry);
      keys.add(key);

      assertThat(store.get(key))
          .as("entry %d right after its put", i)
          .hasValueSatisfying(bytes -> assertThat(bytes).isEqualTo(entry));
    }

    List<Digest> present = keys.stream().filter(k -> store.get(k).isPresent()).toList();
    assertThat(present).containsExactlyElementsOf(keys.subList(7, 10));
    assertThat(store.stats()).isEqualTo(new StoreStats(3, 3L * size, 3L * size, 7, 7L * size));
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
