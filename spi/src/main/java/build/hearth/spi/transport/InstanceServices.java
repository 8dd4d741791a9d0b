package build.hearth.spi.transport;

import build.hearth.api.ActionCache;
import build.hearth.api.ContentAddressableStorage;
import build.hearth.api.ExecutionService;
import java.util.Objects;
import java.util.Optional;

/**
 * The services behind one REAPI instance name. Immutable; the services it holds are thread-safe.
 *
 * <pre>{@code
 * InstanceServices instance =
 *     new InstanceServices("", cas, Optional.of(actionCache), true, Optional.of(executions));
 * }</pre>
 *
 * @param name the instance name; {@code ""} is the default instance
 * @param cas the content-addressable store (also served through ByteStream)
 * @param actionCache the action cache, or empty if this instance has none
 * @param actionCacheUpdates whether clients may write to the action cache; when false, a client's
 *     UpdateActionResult fails with PERMISSION_DENIED, while results of remote executions are still
 *     cached
 * @param execution remote execution, or empty if this instance only caches
 */
public record InstanceServices(
    String name,
    ContentAddressableStorage cas,
    Optional<ActionCache> actionCache,
    boolean actionCacheUpdates,
    Optional<ExecutionService> execution) {
  /**
   * Checks that nothing is null.
   *
   * @param name the instance name; {@code ""} is the default instance
   * @param cas the content-addressable store
   * @param actionCache the action cache, or empty
   * @param actionCacheUpdates whether clients may write to the action cache
   * @param execution remote execution, or empty
   * @throws NullPointerException if an argument is null
   */
  public InstanceServices {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(cas, "cas");
    Objects.requireNonNull(actionCache, "actionCache");
    Objects.requireNonNull(execution, "execution");
  }

  /**
   * An instance that caches but does not execute.
   *
   * @param name the instance name; {@code ""} is the default instance
   * @param cas the content-addressable store
   * @param actionCache the action cache, or empty if this instance has none
   * @param actionCacheUpdates whether clients may write to the action cache
   * @throws NullPointerException if an argument is null
   */
  public InstanceServices(
      String name,
      ContentAddressableStorage cas,
      Optional<ActionCache> actionCache,
      boolean actionCacheUpdates) {
    this(name, cas, actionCache, actionCacheUpdates, Optional.empty());
  }
}
