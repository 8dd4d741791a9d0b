package build.hearth.core.storage;

import build.hearth.spi.storage.BlobStore;
import build.hearth.spi.storage.BlobStoreProvider;
import build.hearth.spi.storage.StoreContext;
import java.nio.file.Path;

/**
 * The {@code filesystem} blob store: one file per blob under a directory, kept across restarts.
 *
 * <p>Settings: {@code path} (required), the directory, created if missing; {@code maxSize}, the
 * most bytes of blobs it keeps (default {@code "10GiB"}); {@code fsync}, whether each blob is
 * flushed to disk before it becomes visible, for durability across power loss (default {@code
 * false}); {@code blockSize}, the unit each file counts against {@code maxSize} in, at least one
 * (default {@code "4KiB"}, so a flood of tiny blobs is bounded too). Bytes of uploads in progress
 * count against {@code maxSize} as they arrive; when only uploads are left to evict, a new one is
 * refused with the {@code blob_store_full} limit. When full it evicts the least recently used blobs
 * (a lookup, a read or a repeated upload counts as a use); the order survives a restart to within a
 * minute, through the files' modification times. Opening the store deletes unfinished uploads and
 * reads the directory, which takes a moment for millions of blobs.
 *
 * <pre>{@code
 * "blobStores": { "cas": { "type": "filesystem", "path": "~/.cache/hearth", "maxSize": "50GiB" } }
 * }</pre>
 *
 * <p>A directory belongs to one store at a time: two open stores over the same {@code path} would
 * each evict without the other knowing. A filesystem blob store and a filesystem action-cache store
 * may share a {@code path}.
 *
 * <p>Stateless and thread-safe; each {@link #create} returns an independent store. Disk errors
 * surface as {@link build.hearth.api.HearthException}s that name the file.
 */
public final class FilesystemBlobStoreProvider extends BlobStoreProvider {
  static final long DEFAULT_MAX_SIZE = 10L << 30;

  /** Called by {@link java.util.ServiceLoader}. */
  public FilesystemBlobStoreProvider() {}

  @Override
  public String type() {
    return "filesystem";
  }

  /**
   * @throws build.hearth.api.ConfigException if {@code path} is missing or cannot be created, or
   *     {@code maxSize} is not a positive size
   */
  @Override
  public BlobStore create(StoreContext context) {
    Path path = context.settings().requirePath("path");
    long capacity = SizeSetting.maxSize(context.settings(), DEFAULT_MAX_SIZE);
    return FilesystemBlobStore.open(
        context.name(),
        context.settings(),
        path,
        capacity,
        SizeSetting.blockSize(context.settings(), FilesystemBlobStore.BLOCK_BYTES),
        context.settings().bool("fsync", false),
        context.clock());
  }
}
