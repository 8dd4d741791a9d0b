package build.hearth.spi.storage;

import java.time.Clock;
import java.util.Objects;

/**
 * What a provider receives to create a store: the store's name in the configuration, its settings,
 * and the services the host injects (so tests can replace time).
 *
 * <p>Immutable. New fields arrive with defaults, so providers keep compiling.
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

  /** The store's name in the configuration, for logs and metrics. */
  public String name() {
    return name;
  }

  /** The store's settings: everything in its JSON object except {@code "type"}. */
  public StoreSettings settings() {
    return settings;
  }

  /** The clock to use for access times and expiry. */
  public Clock clock() {
    return clock;
  }

  public static Builder newBuilder(String name, StoreSettings settings) {
    return new Builder(name, settings);
  }

  /** Builds a {@link StoreContext}. */
  public static final class Builder {
    private final String name;
    private final StoreSettings settings;
    private Clock clock = Clock.systemUTC();

    private Builder(String name, StoreSettings settings) {
      this.name = Objects.requireNonNull(name, "name");
      this.settings = Objects.requireNonNull(settings, "settings");
    }

    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    public StoreContext build() {
      return new StoreContext(this);
    }
  }
}
