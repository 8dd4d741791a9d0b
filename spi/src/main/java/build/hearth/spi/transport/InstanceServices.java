package build.hearth.spi.transport;

import build.hearth.api.ActionCache;
import build.hearth.api.ContentAddressableStorage;
import java.util.Objects;
import java.util.Optional;

/**
 * The services behind one REAPI instance name.
 *
 * @param name the instance name; {@code ""} is the default instance
 * @param cas the content-addressable store (also served through ByteStream)
 * @param actionCache the action cache, or empty if this instance has none
 * @param actionCacheUpdates whether clients may write to the action cache
 */
public record InstanceServices(
    String name,
    ContentAddressableStorage cas,
    Optional<ActionCache> actionCache,
    boolean actionCacheUpdates) {
  public InstanceServices {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(cas, "cas");
    Objects.requireNonNull(actionCache, "actionCache");
  }
}
