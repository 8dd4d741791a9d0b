package build.hearth.spi.storage;

/**
 * Creates {@link ActionCacheStore}s of one {@link #type()}. Discovered with {@link
 * java.util.ServiceLoader} from {@code
 * META-INF/services/build.hearth.spi.storage.ActionCacheStoreProvider}; see {@link
 * BlobStoreProvider} for the pattern.
 */
public abstract class ActionCacheStoreProvider extends StoreProvider {

  /**
   * For subclasses, which {@link java.util.ServiceLoader} creates through their public no-argument
   * constructor.
   */
  protected ActionCacheStoreProvider() {}

  /**
   * Opens a store for the configuration in {@code context}. Reads its settings only through {@link
   * StoreContext#settings()}, as {@link BlobStoreProvider#create} does.
   *
   * @param context the store's name, settings and injected services
   * @return a new, open store, which the host closes
   * @throws build.hearth.api.ConfigException for a bad setting, naming it
   */
  public abstract ActionCacheStore create(StoreContext context);
}
