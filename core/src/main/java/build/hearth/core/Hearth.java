package build.hearth.core;

import build.hearth.api.ActionCache;
import build.hearth.api.ContentAddressableStorage;
import build.hearth.spi.storage.ActionCacheStore;
import build.hearth.spi.storage.BlobStore;
import build.hearth.spi.storage.StoreContext;
import build.hearth.spi.storage.StoreProviderRegistry;
import build.hearth.spi.storage.StoreSettings;
import java.time.Clock;
import java.util.Map;
import java.util.Objects;

/**
 * Hearth embedded in a Java process, with no server: a content-addressable store and an action
 * cache made from the same storage providers a configuration file names.
 *
 * <pre>{@code
 * try (Hearth hearth = Hearth.newBuilder()
 *     .blobStore("filesystem", Map.of("path", "/var/cache/my-build/cas", "maxSize", "20GiB"))
 *     .actionCacheStore("memory", Map.of("maxSize", "64MiB"))
 *     .build()) {
 *   Digest digest = hearth.cas().put(ByteString.copyFromUtf8("hello"));
 *   Optional<ActionResult> hit = hearth.actionCache().get(actionDigest);
 * }
 * }</pre>
 *
 * <p>Thread-safe. Two instances in one JVM are independent. {@link #close()} closes the stores.
 */
public final class Hearth implements AutoCloseable {
  private final BlobStore blobStore;
  private final ActionCacheStore actionCacheStore;
  private final ContentAddressableStorage cas;
  private final ActionCache actionCache;

  private Hearth(BlobStore blobStore, ActionCacheStore actionCacheStore) {
    this.blobStore = blobStore;
    this.actionCacheStore = actionCacheStore;
    this.cas = Storage.cas(blobStore);
    this.actionCache = Storage.actionCache(actionCacheStore, cas);
  }

  public static Builder newBuilder() {
    return new Builder();
  }

  /** The verifying content-addressable store. */
  public ContentAddressableStorage cas() {
    return cas;
  }

  /** The action cache, checked against {@link #cas()}. */
  public ActionCache actionCache() {
    return actionCache;
  }

  @Override
  public void close() {
    try {
      actionCacheStore.close();
    } finally {
      blobStore.close();
    }
  }

  /**
   * Builds a {@link Hearth}. By default both stores are {@code memory} stores of the built-in
   * sizes, and providers are discovered from the builder's class loader.
   */
  public static final class Builder {
    private StoreProviderRegistry registry;
    private Clock clock = Clock.systemUTC();
    private String blobType = "memory";
    private Map<String, ?> blobSettings = Map.of();
    private String actionCacheType = "memory";
    private Map<String, ?> actionCacheSettings = Map.of();

    private Builder() {}

    /** The providers to choose from; by default those {@link java.util.ServiceLoader} finds. */
    public Builder storeProviders(StoreProviderRegistry registry) {
      this.registry = Objects.requireNonNull(registry, "registry");
      return this;
    }

    /** The clock stores use for access times; the system clock by default. */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * The blob store: a provider type and its settings, as a configuration file's store object
     * would give them.
     */
    public Builder blobStore(String type, Map<String, ?> settings) {
      this.blobType = Objects.requireNonNull(type, "type");
      this.blobSettings = Map.copyOf(settings);
      return this;
    }

    /** The action-cache store: a provider type and its settings. */
    public Builder actionCacheStore(String type, Map<String, ?> settings) {
      this.actionCacheType = Objects.requireNonNull(type, "type");
      this.actionCacheSettings = Map.copyOf(settings);
      return this;
    }

    /**
     * Opens the stores.
     *
     * @throws build.hearth.api.ConfigException if a type is unknown or a setting is bad
     */
    public Hearth build() {
      StoreProviderRegistry providers =
          registry != null
              ? registry
              : StoreProviderRegistry.discover(Hearth.class.getClassLoader());
      StoreContext blobContext =
          StoreContext.newBuilder("blobStore", StoreSettings.of("blobStore", blobSettings))
              .clock(clock)
              .build();
      BlobStore blobs = providers.createBlobStore(blobType, "blobStore.type", 0, blobContext);
      try {
        StoreContext acContext =
            StoreContext.newBuilder(
                    "actionCacheStore", StoreSettings.of("actionCacheStore", actionCacheSettings))
                .clock(clock)
                .build();
        ActionCacheStore ac =
            providers.createActionCacheStore(
                actionCacheType, "actionCacheStore.type", 0, acContext);
        return new Hearth(blobs, ac);
      } catch (RuntimeException e) {
        blobs.close();
        throw e;
      }
    }
  }
}
