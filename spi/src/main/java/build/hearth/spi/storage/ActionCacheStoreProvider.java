package build.hearth.spi.storage;

/**
 * Creates {@link ActionCacheStore}s of one {@link #type()}. Discovered with {@link
 * java.util.ServiceLoader} from {@code
 * META-INF/services/build.hearth.spi.storage.ActionCacheStoreProvider}; see {@link
 * BlobStoreProvider} for the pattern.
 */
public abstract class ActionCacheStoreProvider extends StoreProvider {

  /**
   * Opens a store for the configuration in {@code context}.
   *
   * @throws build.hearth.api.ConfigException for a bad setting, naming it
   */
  public abstract ActionCacheStore create(StoreContext context);
}
