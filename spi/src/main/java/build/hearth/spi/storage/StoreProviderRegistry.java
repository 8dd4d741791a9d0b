package build.hearth.spi.storage;

import build.hearth.api.ConfigException;
import build.hearth.spi.internal.ProviderLookup;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;

/**
 * The storage providers one Hearth instance may use, by type name.
 *
 * <p>{@link #discover(ClassLoader)} finds them with {@link ServiceLoader}; a provider that fails to
 * load is logged and skipped, so one broken plugin never stops the others. Unavailable providers
 * are left out, and when two claim one type the higher {@link StoreProvider#priority()} wins. A
 * registry can also be built from an explicit list, so two instances in one JVM can use different
 * providers; there is no global registry.
 *
 * <p>Immutable and thread-safe.
 *
 * <pre>{@code
 * StoreProviderRegistry registry = StoreProviderRegistry.discover(getClass().getClassLoader());
 * BlobStore store = registry.createBlobStore("sqlite", "blobStores.cas.type", 0, context);
 * }</pre>
 */
public final class StoreProviderRegistry {
  private static final ProviderLookup<StoreProvider> LOOKUP =
      new ProviderLookup<>(
          "storage provider",
          StoreProvider::type,
          StoreProvider::isAvailable,
          StoreProvider::priority);
  private final Map<String, BlobStoreProvider> blobProviders;
  private final Map<String, ActionCacheStoreProvider> actionCacheProviders;

  private StoreProviderRegistry(
      List<BlobStoreProvider> blobProviders, List<ActionCacheStoreProvider> actionCacheProviders) {
    this.blobProviders = LOOKUP.byType(blobProviders);
    this.actionCacheProviders = LOOKUP.byType(actionCacheProviders);
  }

  /**
   * Finds the providers visible to a class loader through {@link ServiceLoader}. Never fails for a
   * broken plugin: it is logged and left out.
   *
   * @param classLoader where to look for {@code META-INF/services} entries, such as the class
   *     loader that loaded the host's plugins
   * @return a registry of the available providers, the highest priority for each type
   */
  public static StoreProviderRegistry discover(ClassLoader classLoader) {
    return new StoreProviderRegistry(
        LOOKUP.load(BlobStoreProvider.class, classLoader),
        LOOKUP.load(ActionCacheStoreProvider.class, classLoader));
  }

  /**
   * A registry of exactly these providers (unavailable ones are still left out), for embedders and
   * tests that choose their stores in code.
   *
   * @param blobProviders the blob-store providers; copied
   * @param actionCacheProviders the action-cache-store providers; copied
   * @return a registry of those providers, the highest priority for each type
   */
  public static StoreProviderRegistry of(
      List<? extends BlobStoreProvider> blobProviders,
      List<? extends ActionCacheStoreProvider> actionCacheProviders) {
    return new StoreProviderRegistry(
        new ArrayList<>(blobProviders), new ArrayList<>(actionCacheProviders));
  }

  /** {@return the known blob-store types, sorted} */
  public List<String> blobStoreTypes() {
    return List.copyOf(blobProviders.keySet());
  }

  /** {@return the known action-cache-store types, sorted} */
  public List<String> actionCacheStoreTypes() {
    return List.copyOf(actionCacheProviders.keySet());
  }

  /**
   * Creates a blob store of {@code type} and checks that it understood every setting. If a setting
   * is unknown, the new store is closed before the exception is thrown.
   *
   * @param type the store type named in the configuration, such as {@code "filesystem"}
   * @param typePath the JSON path of the {@code type} field, for errors
   * @param typeLine its line, or 0
   * @param context the store's name, settings and services, passed to the provider
   * @return the open store; the caller closes it
   * @throws ConfigException if the type is unknown (listing the known ones and the jar of each) or
   *     a setting is bad or unknown
   */
  public BlobStore createBlobStore(
      String type, String typePath, int typeLine, StoreContext context) {
    BlobStoreProvider provider = blobProviders.get(type);
    if (provider == null) {
      throw unknownType("blob store", type, typePath, typeLine, blobProviders);
    }
    // The provider may open stores nested in its settings (StoreContext.openBlobStore): through
    // this registry, so that nothing global decides which providers they come from.
    BlobStore store = provider.create(context.withRegistry(this));
    try {
      context.settings().rejectUnknown(type);
    } catch (ConfigException e) {
      store.close();
      throw e;
    }
    return store;
  }

  /**
   * Creates an action-cache store of {@code type} and checks that it understood every setting, as
   * {@link #createBlobStore} does.
   *
   * @param type the store type named in the configuration
   * @param typePath the JSON path of the {@code type} field, for errors
   * @param typeLine its line, or 0
   * @param context the store's name, settings and services, passed to the provider
   * @return the open store; the caller closes it
   * @throws ConfigException if the type is unknown or a setting is bad or unknown
   */
  public ActionCacheStore createActionCacheStore(
      String type, String typePath, int typeLine, StoreContext context) {
    ActionCacheStoreProvider provider = actionCacheProviders.get(type);
    if (provider == null) {
      throw unknownType("action-cache store", type, typePath, typeLine, actionCacheProviders);
    }
    ActionCacheStore store = provider.create(context.withRegistry(this));
    try {
      context.settings().rejectUnknown(type);
    } catch (ConfigException e) {
      store.close();
      throw e;
    }
    return store;
  }

  private static ConfigException unknownType(
      String what,
      String type,
      String path,
      int line,
      Map<String, ? extends StoreProvider> providers) {
    return new ConfigException(
        path,
        line,
        "unknown "
            + what
            + " type '"
            + type
            + "'; known types: "
            + ProviderLookup.describe(providers)
            + ". A plugin type needs its jar on the class path.");
  }
}
