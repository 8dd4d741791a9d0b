package build.hearth.core.storage;

import build.hearth.spi.storage.BlobStore;
import build.hearth.spi.storage.BlobStoreProvider;
import build.hearth.spi.storage.StoreContext;

/**
 * The {@code memory} blob store: blobs on the heap, lost on restart.
 *
 * <p>Settings: {@code maxSize}, the most bytes of blobs it keeps (default {@code "256MiB"}); when a
 * commit would go over it, the least recently used blobs are evicted to make room (a commit, {@code
 * contains}, {@code findMissing} and {@code read} count as uses). A committed blob is always
 * admitted, so it is readable right after its commit. A blob larger than {@code maxSize}, or than
 * one Java array (about 2 GiB), is refused with RESOURCE_EXHAUSTED when its upload starts. {@code
 * entryOverhead} (default {@code "256B"}) is what each blob counts against {@code maxSize} besides
 * its bytes, its cost to the heap, so a flood of tiny blobs is bounded too. An upload holds memory
 * for the bytes that arrived, never for the size its digest declares.
 *
 * <pre>{@code
 * "blobStores": { "cas": { "type": "memory", "maxSize": "1GiB" } }
 * }</pre>
 *
 * <p>Stateless and thread-safe; each {@link #create} returns an independent store.
 */
public final class MemoryBlobStoreProvider extends BlobStoreProvider {
  static final long DEFAULT_MAX_SIZE = 256L << 20;

  /** Called by {@link java.util.ServiceLoader}. */
  public MemoryBlobStoreProvider() {}

  @Override
  public String type() {
    return "memory";
  }

  /**
   * @throws build.hearth.api.ConfigException if {@code maxSize} is not a positive size
   */
  @Override
  public BlobStore create(StoreContext context) {
    long capacity = SizeSetting.maxSize(context.settings(), DEFAULT_MAX_SIZE);
    return new MemoryBlobStore(
        context.name(),
        capacity,
        SizeSetting.entryOverhead(context.settings(), ByteBoundedCache.ENTRY_OVERHEAD_BYTES));
  }
}
