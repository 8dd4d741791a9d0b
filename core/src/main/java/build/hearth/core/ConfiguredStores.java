package build.hearth.core;

import build.hearth.api.ConfigException;
import build.hearth.core.config.HearthConfig;
import build.hearth.core.config.StoreConfig;
import build.hearth.spi.storage.ActionCacheStore;
import build.hearth.spi.storage.BlobStore;
import build.hearth.spi.storage.StoreContext;
import build.hearth.spi.storage.StoreProviderRegistry;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
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

  private ConfiguredStores(
      Map<String, BlobStore> blobStores, Map<String, ActionCacheStore> actionCacheStores) {
    this.blobStores = blobStores;
    this.actionCacheStores = actionCacheStores;
  }

  /**
   * Opens every store in {@code config}.
   *
   * @throws ConfigException for an unknown type or a bad setting, naming its path
   */
  public static ConfiguredStores open(
      HearthConfig config, StoreProviderRegistry registry, Clock clock) {
    Map<String, BlobStore> blobs = new LinkedHashMap<>();
    Map<String, ActionCacheStore> caches = new LinkedHashMap<>();
    List<AutoCloseable> opened = new ArrayList<>();
    try {
      for (StoreConfig store : config.blobStores().values()) {
        BlobStore created =
            registry.createBlobStore(
                store.type(), store.typePath(), store.typeLine(), context(store, clock));
        opened.add(created);
        blobs.put(store.name(), created);
      }
      for (StoreConfig store : config.actionCacheStores().values()) {
        ActionCacheStore created =
            registry.createActionCacheStore(
                store.type(), store.typePath(), store.typeLine(), context(store, clock));
        opened.add(created);
        caches.put(store.name(), created);
      }
    } catch (RuntimeException e) {
      closeAll(opened, e);
      throw e;
    }
    return new ConfiguredStores(Map.copyOf(blobs), Map.copyOf(caches));
  }

  private static StoreContext context(StoreConfig store, Clock clock) {
    return StoreContext.newBuilder(store.name(), store.settings()).clock(clock).build();
  }

  /** The blob store named {@code name} in the configuration. */
  public BlobStore blobStore(String name) {
    BlobStore store = blobStores.get(name);
    if (store == null) {
      throw new IllegalArgumentException("no blob store named '" + name + "'");
    }
    return store;
  }

  /** The action-cache store named {@code name} in the configuration. */
  public ActionCacheStore actionCacheStore(String name) {
    ActionCacheStore store = actionCacheStores.get(name);
    if (store == null) {
      throw new IllegalArgumentException("no action-cache store named '" + name + "'");
    }
    return store;
  }

  @Override
  public void close() {
    List<AutoCloseable> all = new ArrayList<>(actionCacheStores.values());
    all.addAll(blobStores.values());
    RuntimeException failure = closeAll(all, null);
    if (failure != null) {
      throw failure;
    }
  }

  private static RuntimeException closeAll(
      List<AutoCloseable> resources, RuntimeException primary) {
    RuntimeException failure = primary;
    for (AutoCloseable resource : resources) {
      try {
        resource.close();
      } catch (Exception e) {
        if (failure == null) {
          failure = new IllegalStateException("closing a store failed", e);
        } else {
          failure.addSuppressed(e);
        }
      }
    }
    return primary == null ? failure : null;
  }
}
