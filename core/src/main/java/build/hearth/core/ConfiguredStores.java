package build.hearth.core;

import build.hearth.api.ConfigException;
import build.hearth.core.config.HearthConfig;
import build.hearth.core.config.StoreConfig;
import build.hearth.spi.storage.ActionCacheStore;
import build.hearth.spi.storage.BlobStore;
import build.hearth.spi.storage.StoreContext;
import build.hearth.spi.storage.StoreProviderRegistry;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Every store a configuration names, opened through the providers of a registry, and closed
 * together. If one store fails to open, those already open are closed before the error is thrown.
 *
 * <p>Thread-safe once built.
 */
public final class ConfiguredStores implements AutoCloseable {
  private final Map<String, BlobStore> blobStores;
  private final Map<String, ActionCacheStore> actionCacheStores;
  private final Closer closer;

  private ConfiguredStores(
      Map<String, BlobStore> blobStores,
      Map<String, ActionCacheStore> actionCacheStores,
      Closer closer) {
    this.blobStores = blobStores;
    this.actionCacheStores = actionCacheStores;
    this.closer = closer;
  }

  /**
   * Opens every store in {@code config}.
   *
   * @param config the configuration, whose stores are opened
   * @param registry the providers to choose from
   * @param clock the clock the stores use
   * @return the open stores; close them after their last use
   * @throws ConfigException for an unknown type or a bad setting, naming its path
   */
  public static ConfiguredStores open(
      HearthConfig config, StoreProviderRegistry registry, Clock clock) {
    Map<String, BlobStore> blobs = new LinkedHashMap<>();
    Map<String, ActionCacheStore> caches = new LinkedHashMap<>();
    Closer closer = new Closer();
    try {
      for (StoreConfig store : config.blobStores().values()) {
        BlobStore created =
            registry.createBlobStore(
                store.type(), store.typePath(), store.typeLine(), context(store, clock));
        blobs.put(store.name(), closer.register(created));
      }
      for (StoreConfig store : config.actionCacheStores().values()) {
        ActionCacheStore created =
            registry.createActionCacheStore(
                store.type(), store.typePath(), store.typeLine(), context(store, clock));
        caches.put(store.name(), closer.register(created));
      }
    } catch (RuntimeException e) {
      closer.closeAfter(e);
      throw e;
    }
    return new ConfiguredStores(Map.copyOf(blobs), Map.copyOf(caches), closer);
  }

  private static StoreContext context(StoreConfig store, Clock clock) {
    return StoreContext.newBuilder(store.name(), store.settings()).clock(clock).build();
  }

  /**
   * Finds a blob store.
   *
   * @param name its name in the configuration
   * @return the blob store of that name
   * @throws IllegalArgumentException if the configuration names no such store
   */
  public BlobStore blobStore(String name) {
    BlobStore store = blobStores.get(name);
    if (store == null) {
      throw new IllegalArgumentException("no blob store named '" + name + "'");
    }
    return store;
  }

  /**
   * Finds an action-cache store.
   *
   * @param name its name in the configuration
   * @return the action-cache store of that name
   * @throws IllegalArgumentException if the configuration names no such store
   */
  public ActionCacheStore actionCacheStore(String name) {
    ActionCacheStore store = actionCacheStores.get(name);
    if (store == null) {
      throw new IllegalArgumentException("no action-cache store named '" + name + "'");
    }
    return store;
  }

  /** Closes the action-cache stores, then the blob stores. */
  @Override
  public void close() {
    closer.close();
  }
}
