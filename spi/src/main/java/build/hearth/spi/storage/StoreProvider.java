package build.hearth.spi.storage;

/**
 * What every storage provider declares about itself. Extend {@link BlobStoreProvider} or {@link
 * ActionCacheStoreProvider}, not this class (its constructor is not public).
 *
 * <p>The registry calls these methods during discovery: they are cheap, may be called from any
 * thread, and return the same answer each time. An exception thrown here makes the registry skip
 * the provider with a warning in the log.
 */
public abstract class StoreProvider {

  StoreProvider() {}

  /**
   * The name a configuration file uses in a store's {@code "type"}, such as {@code "filesystem"}.
   * Lowercase letters, digits and dashes.
   *
   * @return the type name, unique among the providers a plugin ships
   */
  public abstract String type();

  /**
   * Whether this provider can work in this process (for example, a native library is present).
   * Unavailable providers are skipped during discovery.
   *
   * @return true by default
   */
  public boolean isAvailable() {
    return true;
  }

  /**
   * Breaks ties when two providers claim the same type: the higher priority wins. Built-in
   * providers use 5; a plugin that wants to replace one uses more.
   *
   * @return 5 by default
   */
  public int priority() {
    return 5;
  }
}
