package build.hearth.spi.storage;

/**
 * What every storage provider declares about itself. Extend {@link BlobStoreProvider} or {@link
 * ActionCacheStoreProvider}, not this class.
 */
public abstract class StoreProvider {

  StoreProvider() {}

  /**
   * The name a configuration file uses in a store's {@code "type"}, such as {@code "filesystem"}.
   * Lowercase letters, digits and dashes.
   */
  public abstract String type();

  /**
   * Whether this provider can work in this process (for example, a native library is present).
   * Unavailable providers are skipped during discovery.
   */
  public boolean isAvailable() {
    return true;
  }

  /**
   * Breaks ties when two providers claim the same type: the higher priority wins. Built-in
   * providers use 5; a plugin that wants to replace one uses more.
   */
  public int priority() {
    return 5;
  }
}
