package build.hearth.core.storage;

import build.hearth.spi.storage.BlobStore;
import build.hearth.spi.storage.BlobStoreProvider;
import build.hearth.spi.storage.StoreContext;

/**
 * The {@code tiered} blob store: a local store in front of a shared one, each a store object of its
 * own nested in the tiered store's settings, of any blob-store type.
 *
 * <p>Settings: {@code local} (required), the store on this server, typically {@code filesystem};
 * {@code shared} (required), the store every server shares, such as {@code redis}. Reads try the
 * local tier first and fill it from the shared one; writes are acknowledged once the shared tier
 * has them and also go to the local one; a blob is missing only if both lack it, and the shared
 * tier is asked only about what the local one lacks. Each tier evicts on its own.
 *
 * <pre>{@code
 * "blobStores": {
 *   "cas": {
 *     "type": "tiered",
 *     "local": { "type": "filesystem", "path": "/var/cache/hearth", "maxSize": "50GiB" },
 *     "shared": { "type": "redis", "uri": "redis://cache:6379" }
 *   }
 * }
 * }</pre>
 *
 * <p>Stateless and thread-safe; each {@link #create} returns an independent store, which owns and
 * closes its two tiers.
 */
public final class TieredBlobStoreProvider extends BlobStoreProvider {

  /** Called by {@link java.util.ServiceLoader}. */
  public TieredBlobStoreProvider() {}

  @Override
  public String type() {
    return "tiered";
  }

  /**
   * @throws build.hearth.api.ConfigException if {@code local} or {@code shared} is missing, is not
   *     a store object, or has a bad setting, naming its path (such as {@code
   *     blobStores.cas.shared.type})
   */
  @Override
  public BlobStore create(StoreContext context) {
    BlobStore local = context.openBlobStore("local");
    try {
      BlobStore shared = context.openBlobStore("shared");
      return TieredBlobStore.of(context.name(), local, shared, new LocalFailures(context.clock()));
    } catch (RuntimeException e) {
      local.close();
      throw e;
    }
  }
}
