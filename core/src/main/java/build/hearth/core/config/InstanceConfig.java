package build.hearth.core.config;

import java.util.Objects;
import java.util.Optional;

/**
 * What one REAPI instance name of a server serves: which blob store backs its CAS, whether it has
 * an action cache, and whether it executes actions.
 *
 * <p>Built only by {@link HearthConfig}'s readers, which have checked that the instance name is a
 * valid REAPI instance name and that the store and scheduler names refer to entries defined in the
 * same configuration. Immutable and thread-safe.
 */
public final class InstanceConfig {
  private final String name;
  private final String casStore;
  private final String actionCacheStore;
  private final boolean actionCacheUpdates;
  private final ExecutionConfig execution;
  private final long maxDirectoryBytes;
  private final long maxTreeBytes;

  /** The default {@code maxDirectorySize}: 16 MiB, over 200,000 entries in one directory. */
  public static final long DEFAULT_MAX_DIRECTORY_BYTES = 16L << 20;

  /** The default {@code maxTreeSize}: 1 GiB, several million entries in one output directory. */
  public static final long DEFAULT_MAX_TREE_BYTES = 1L << 30;

  InstanceConfig(
      String name,
      String casStore,
      String actionCacheStore,
      boolean actionCacheUpdates,
      ExecutionConfig execution,
      long maxDirectoryBytes,
      long maxTreeBytes) {
    this.name = Objects.requireNonNull(name, "name");
    this.casStore = Objects.requireNonNull(casStore, "casStore");
    this.actionCacheStore = actionCacheStore;
    this.actionCacheUpdates = actionCacheUpdates;
    this.execution = execution;
    this.maxDirectoryBytes = maxDirectoryBytes;
    this.maxTreeBytes = maxTreeBytes;
  }

  /**
   * {@return the largest Directory blob read whole for this instance: by GetTree, by the action
   * cache's check of an output directory, and by in-process workers fetching an input tree}
   */
  public long maxDirectoryBytes() {
    return maxDirectoryBytes;
  }

  /** {@return the largest Tree blob the action cache parses to check an output directory} */
  public long maxTreeBytes() {
    return maxTreeBytes;
  }

  /** {@return the REAPI instance name; empty for the default instance} */
  public String name() {
    return name;
  }

  /**
   * {@return the name of the {@link HearthConfig#blobStores() blob store} that holds this
   * instance's CAS}
   */
  public String casStore() {
    return casStore;
  }

  /**
   * {@return the name of the {@link HearthConfig#actionCacheStores() action-cache store} of this
   * instance, or empty when the instance offers no ActionCache service}
   */
  public Optional<String> actionCacheStore() {
    return Optional.ofNullable(actionCacheStore);
  }

  /**
   * {@return whether clients may write results with {@code UpdateActionResult}; when false the
   * action cache is read-only for clients} Meaningful only with an {@link #actionCacheStore()}.
   */
  public boolean actionCacheUpdates() {
    return actionCacheUpdates;
  }

  /**
   * {@return how this instance executes actions, or empty when it offers no Execution service} An
   * instance may execute without an {@link #actionCacheStore() action cache}; its results are then
   * not cached, and every Execute runs the action.
   */
  public Optional<ExecutionConfig> execution() {
    return Optional.ofNullable(execution);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof InstanceConfig that
        && name.equals(that.name)
        && casStore.equals(that.casStore)
        && Objects.equals(actionCacheStore, that.actionCacheStore)
        && actionCacheUpdates == that.actionCacheUpdates
        && Objects.equals(execution, that.execution)
        && maxDirectoryBytes == that.maxDirectoryBytes
        && maxTreeBytes == that.maxTreeBytes;
  }

  @Override
  public int hashCode() {
    return Objects.hash(
        name,
        casStore,
        actionCacheStore,
        actionCacheUpdates,
        execution,
        maxDirectoryBytes,
        maxTreeBytes);
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
        + ", execution="
        + (execution == null ? "none" : execution)
        + ", maxDirectoryBytes="
        + maxDirectoryBytes
        + ", maxTreeBytes="
        + maxTreeBytes
        + "}";
  }
}
