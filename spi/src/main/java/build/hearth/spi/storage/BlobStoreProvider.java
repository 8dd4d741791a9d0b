package build.hearth.spi.storage;

/**
 * Creates {@link BlobStore}s of one {@link #type()}, the name a configuration uses in {@code
 * "type"}. Discovered with {@link java.util.ServiceLoader}: a plugin lists its subclass in {@code
 * META-INF/services/build.hearth.spi.storage.BlobStoreProvider} (and {@code provides} in its {@code
 * module-info}). Subclasses have a public no-argument constructor.
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
   * Opens a store for the configuration in {@code context}. Reads its settings only through {@link
   * StoreContext#settings()}: any setting the provider does not ask for is reported to the user as
   * unknown.
   *
   * @throws build.hearth.api.ConfigException for a bad setting, naming it
   */
  public abstract BlobStore create(StoreContext context);
}
