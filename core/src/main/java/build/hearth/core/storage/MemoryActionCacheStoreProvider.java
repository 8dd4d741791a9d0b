package build.hearth.core.storage;

import build.hearth.spi.storage.ActionCacheStore;
import build.hearth.spi.storage.ActionCacheStoreProvider;
import build.hearth.spi.storage.StoreContext;

/**
 * The {@code memory} action-cache store: entries on the heap, lost on restart.
 *
 * <p>Settings: {@code maxSize}, the most bytes of entries it keeps (default {@code "64MiB"}, some
 * hundred thousand typical results); when a put would go over it, the least recently used entries
 * are evicted to make room (puts and hits of {@code get} count as uses), so a new entry is always
 * admitted. An entry larger than {@code maxSize} is refused with RESOURCE_EXHAUSTED. {@code
 * entryOverhead} (default {@code "256B"}) is what each entry counts besides its bytes.
 *
 * <pre>{@code
 * "actionCaches": { "ac": { "type": "memory", "maxSize": "128MiB" } }
 * }</pre>
 *
 * <p>Stateless and thread-safe; each {@link #create} returns an independent store.
 */
public final class MemoryActionCacheStoreProvider extends ActionCacheStoreProvider {
  static final long DEFAULT_MAX_SIZE = 64L << 20;

  /** Called by {@link java.util.ServiceLoader}. */
  public MemoryActionCacheStoreProvider() {}

  @Override
  public String type() {
    return "memory";
  }

  /**
   * @throws build.hearth.api.ConfigException if {@code maxSize} is not a positive size
   */
  @Override
  public ActionCacheStore create(StoreContext context) {
    long capacity = SizeSetting.maxSize(context.settings(), DEFAULT_MAX_SIZE);
    return new MemoryActionCacheStore(
        context.name(),
        capacity,
        SizeSetting.entryOverhead(context.settings(), ByteBoundedCache.ENTRY_OVERHEAD_BYTES));
  }
}
