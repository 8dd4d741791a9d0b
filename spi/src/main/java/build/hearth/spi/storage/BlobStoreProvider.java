package build.hearth.spi.storage;

/**
 * Creates {@link BlobStore}s of one {@link #type()}, the name a configuration uses in {@code
 * "type"}. Discovered with {@link java.util.ServiceLoader}: a plugin lists its subclass in {@code
 * META-INF/services/build.hearth.spi.storage.BlobStoreProvider} (and {@code provides} in its {@code
 * module-info}). Subclasses have a public no-argument constructor, and are stateless: the store,
 * not the provider, holds files and connections.
 *
 * <pre>{@code
 * public final class SqliteBlobStoreProvider extends BlobStoreProvider {
 *   public String type() { return "sqlite"; }
 *   public BlobStore create(StoreContext context) {
 *     Path file = context.settings().requirePath("file");
 *     return new SqliteBlobStore(file);
 *   }
 * }
 * }</pre>
 */
public abstract class BlobStoreProvider extends StoreProvider {

  /**
   * For subclasses, which {@link java.util.ServiceLoader} creates through their public no-argument
   * constructor.
   */
  protected BlobStoreProvider() {}

  /**
   * Opens a store for the configuration in {@code context}. Reads its settings only through {@link
   * StoreContext#settings()}: any setting the provider does not ask for is reported to the user as
   * unknown. Called once for each store the configuration declares, possibly more than once in one
   * JVM, so a store keeps no static state.
   *
   * @param context the store's name, settings and injected services
   * @return a new, open store, which the host closes
   * @throws build.hearth.api.ConfigException for a bad setting, naming it
   */
  public abstract BlobStore create(StoreContext context);
}
