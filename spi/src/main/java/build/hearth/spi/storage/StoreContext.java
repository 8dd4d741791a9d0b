package build.hearth.spi.storage;

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

  private StoreContext(Builder builder) {
    this.name = builder.name;
    this.settings = builder.settings;
    this.clock = builder.clock;
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
      return new StoreContext(this);
    }
  }
}
