package build.hearth.spi.storage;

import build.hearth.api.ConfigException;
import java.time.Clock;
import java.util.Objects;

/**
 * What a provider receives to create a store: the store's name in the configuration, its settings,
 * and the services the host injects (so tests can replace time).
 *
 * <p>Immutable and thread-safe. New fields arrive with defaults, so providers keep compiling. The
 * host builds it; a test of a provider builds one too:
 *
 * <pre>{@code
 * StoreSettings settings = StoreSettings.of("blobStores.cas", Map.of("file", "/tmp/cas.db"));
 * StoreContext context =
 *     StoreContext.newBuilder("cas", settings).clock(new FakeClock()).build();
 * BlobStore store = new SqliteBlobStoreProvider().create(context);
 * }</pre>
 */
public final class StoreContext {
  private final String name;
  private final StoreSettings settings;
  private final Clock clock;
  // The registry opening this store, which opens the stores nested in it; null when a context is
  // built by hand rather than passed through StoreProviderRegistry.
  private final StoreProviderRegistry registry;

  private StoreContext(Builder builder, StoreProviderRegistry registry) {
    this.name = builder.name;
    this.settings = builder.settings;
    this.clock = builder.clock;
    this.registry = registry;
  }

  /** {@return the store's name in the configuration, for logs and metrics} */
  public String name() {
    return name;
  }

  /** {@return the store's settings: everything in its JSON object except {@code "type"}} */
  public StoreSettings settings() {
    return settings;
  }

  /**
   * {@return the clock to use for access times and expiry; the system UTC clock unless the host
   * injected another, such as a test's fake clock}
   */
  public Clock clock() {
    return clock;
  }

  /**
   * Opens a blob store described by an object among this store's settings, for a store built from
   * others (the built-in {@code tiered} store opens its {@code local} and {@code shared} tiers so).
   * The object's {@code type} chooses the provider, among those of the registry that is creating
   * this store, and its other fields are the nested store's settings: every error names the full
   * path, such as {@code blobStores.main.shared.type}, and an unknown nested field is refused as a
   * top-level one is. The nested store is named {@code <this store's name>.<key>} in logs.
   *
   * <pre>{@code
   * BlobStore local = context.openBlobStore("local");
   * try {
   *   return new MyCompositeStore(local, context.openBlobStore("shared"));
   * } catch (RuntimeException e) {
   *   local.close();
   *   throw e;
   * }
   * }</pre>
   *
   * <p>Nothing global is involved: the registry is the one this context came from, so two hosts in
   * one JVM with different providers each open their own.
   *
   * @param key the field holding the nested store's object, such as {@code "shared"}
   * @return the open store, which the caller owns and closes (normally in its own {@code close()})
   * @throws build.hearth.api.ConfigException if the field is absent or not an object, its {@code
   *     type} is missing or unknown, or a nested setting is bad or unknown, naming its path
   * @throws IllegalStateException if this context did not come through {@link
   *     StoreProviderRegistry#createBlobStore} or {@link
   *     StoreProviderRegistry#createActionCacheStore}, which are what can open nested stores
   */
  public BlobStore openBlobStore(String key) {
    if (registry == null) {
      throw new IllegalStateException(
          "store '"
              + name
              + "' cannot open the nested store '"
              + key
              + "': its context was not passed through StoreProviderRegistry.createBlobStore");
    }
    StoreSettings nested =
        settings
            .nested(key)
            .orElseThrow(
                () ->
                    settings.error(
                        key, "is required: a store object such as {\"type\": \"memory\"}"));
    String type =
        nested
            .string("type")
            .orElseThrow(
                () ->
                    new ConfigException(
                        nested.path() + ".type",
                        settings.line(key),
                        "missing required field 'type'; it names the store's provider, such as"
                            + " \"filesystem\" or \"memory\""));
    StoreContext child = new StoreContext(new Builder(name + "." + key, nested).clock(clock), null);
    return registry.createBlobStore(type, nested.path() + ".type", nested.line("type"), child);
  }

  /** This context, able to open nested stores through {@code registry}. */
  StoreContext withRegistry(StoreProviderRegistry registry) {
    if (this.registry == registry) {
      return this;
    }
    Builder copy = new Builder(name, settings).clock(clock);
    return new StoreContext(copy, registry);
  }

  /**
   * Starts a context with the two fields every store has; the others take their defaults.
   *
   * @param name the store's name in the configuration
   * @param settings the store's settings
   * @return a builder, used by one thread
   * @throws NullPointerException if an argument is null
   */
  public static Builder newBuilder(String name, StoreSettings settings) {
    return new Builder(name, settings);
  }

  /** Builds a {@link StoreContext}. Not thread-safe; each setter returns the builder. */
  public static final class Builder {
    private final String name;
    private final StoreSettings settings;
    private Clock clock = Clock.systemUTC();

    private Builder(String name, StoreSettings settings) {
      this.name = Objects.requireNonNull(name, "name");
      this.settings = Objects.requireNonNull(settings, "settings");
    }

    /**
     * Sets the clock stores read for access times and expiry.
     *
     * @param clock the clock; {@link Clock#systemUTC()} if never set
     * @return this builder
     * @throws NullPointerException if {@code clock} is null
     */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** {@return a context with the values set so far} */
    public StoreContext build() {
      return new StoreContext(this, null);
    }
  }
}
