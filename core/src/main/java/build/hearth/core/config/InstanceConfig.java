package build.hearth.core.config;

import java.util.Objects;
import java.util.Optional;

/**
 * What one REAPI instance name of a server serves: which blob store backs its CAS, and whether it
 * has an action cache.
 *
 * <p>Built only by {@link HearthConfig}'s readers, which have checked that the instance name is a
 * valid REAPI instance name and that both store names refer to stores defined in the same
 * configuration. Immutable and thread-safe.
 */
public final class InstanceConfig {
  private final String name;
  private final String casStore;
  private final String actionCacheStore;
  private final boolean actionCacheUpdates;

  InstanceConfig(
      String name, String casStore, String actionCacheStore, boolean actionCacheUpdates) {
    this.name = Objects.requireNonNull(name, "name");
    this.casStore = Objects.requireNonNull(casStore, "casStore");
    this.actionCacheStore = actionCacheStore;
    this.actionCacheUpdates = actionCacheUpdates;
  }

  /** The REAPI instance name; empty for the default instance. */
  public String name() {
    return name;
  }

  /**
   * The name of the {@link HearthConfig#blobStores() blob store} that holds this instance's CAS.
   */
  public String casStore() {
    return casStore;
  }

  /**
   * The name of the {@link HearthConfig#actionCacheStores() action-cache store} of this instance,
   * or empty when the instance offers no ActionCache service.
   */
  public Optional<String> actionCacheStore() {
    return Optional.ofNullable(actionCacheStore);
  }

  /**
   * Whether clients may write results with {@code UpdateActionResult}; when false the action cache
   * is read-only for clients. Meaningful only with an {@link #actionCacheStore()}.
   */
  public boolean actionCacheUpdates() {
    return actionCacheUpdates;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof InstanceConfig that
        && name.equals(that.name)
        && casStore.equals(that.casStore)
        && Objects.equals(actionCacheStore, that.actionCacheStore)
        && actionCacheUpdates == that.actionCacheUpdates;
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, casStore, actionCacheStore, actionCacheUpdates);
  }

  @Override
  public String toString() {
    return "InstanceConfig{name="
        + ConfigPaths.quote(name)
        + ", cas="
        + casStore
        + ", actionCache="
        + (actionCacheStore == null ? "none" : actionCacheStore)
        + ", actionCacheUpdates="
        + actionCacheUpdates
        + "}";
  }
}
