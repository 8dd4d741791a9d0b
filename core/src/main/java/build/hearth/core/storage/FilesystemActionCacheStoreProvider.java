package build.hearth.core.storage;

import build.hearth.spi.storage.ActionCacheStore;
import build.hearth.spi.storage.ActionCacheStoreProvider;
import build.hearth.spi.storage.StoreContext;
import java.nio.file.Path;

/**
 * The {@code filesystem} action-cache store: one file per entry under a directory, kept across
 * restarts.
 *
 * <p>Settings: {@code path} (required), the directory, created if missing; {@code maxSize}, the
 * most bytes of entries it keeps (default {@code "512MiB"}). When full it evicts the least recently
 * used entries, as the {@code filesystem} blob store does, and it may share that store's {@code
 * path}; {@code fsync} (default true) flushes each entry and its directory before the put returns;
 * {@code blockSize} (default {@code "4KiB"}) is the unit each entry's file, header included, counts
 * against {@code maxSize} in.
 *
 * <pre>{@code
 * "actionCaches": { "ac": { "type": "filesystem", "path": "~/.cache/hearth" } }
 * }</pre>
 *
 * <p>Stateless and thread-safe; each {@link #create} returns an independent store.
 */
public final class FilesystemActionCacheStoreProvider extends ActionCacheStoreProvider {
  static final long DEFAULT_MAX_SIZE = 512L << 20;

  /** Called by {@link java.util.ServiceLoader}. */
  public FilesystemActionCacheStoreProvider() {}

  @Override
  public String type() {
    return "filesystem";
  }

  /**
   * @throws build.hearth.api.ConfigException if {@code path} is missing or cannot be created, or
   *     {@code maxSize} is not a positive size
   */
  @Override
  public ActionCacheStore create(StoreContext context) {
    Path path = context.settings().requirePath("path");
    long capacity = SizeSetting.maxSize(context.settings(), DEFAULT_MAX_SIZE);
    return FilesystemActionCacheStore.open(
        context.name(),
        context.settings(),
        path,
        capacity,
        SizeSetting.blockSize(context.settings(), FilesystemBlobStore.BLOCK_BYTES),
        // Entries are small and a lost one costs a whole action: flushed by default.
        context.settings().bool("fsync", true),
        context.clock());
  }
}
