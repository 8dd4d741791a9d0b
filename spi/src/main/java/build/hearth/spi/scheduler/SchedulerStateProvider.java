package build.hearth.spi.scheduler;

import build.hearth.spi.storage.StoreContext;

/**
 * Creates {@link SchedulerState}s of one {@link #type()}, the name a scheduler's {@code state}
 * object gives in {@code "type"}. Discovered with {@link java.util.ServiceLoader} as the storage
 * providers are: a plugin lists its subclass in {@code
 * META-INF/services/build.hearth.spi.scheduler.SchedulerStateProvider} (and {@code provides} in its
 * {@code module-info}). Subclasses have a public no-argument constructor and are stateless.
 */
public abstract class SchedulerStateProvider {

  /** For subclasses, which {@link java.util.ServiceLoader} creates. */
  protected SchedulerStateProvider() {}

  /** {@return the name a configuration uses to choose this provider, such as {@code "redis"}} */
  public abstract String type();

  /** {@return whether this provider works in this process; the default is true} */
  public boolean isAvailable() {
    return true;
  }

  /** {@return which provider wins when two claim one type: the higher; the default is 0} */
  public int priority() {
    return 0;
  }

  /**
   * Opens the state for the configuration in {@code context}: its name is the scheduler's, its
   * settings everything in the {@code state} object but {@code "type"}. Two schedulers, or two
   * servers in one JVM, each open their own; a state keeps no static data.
   *
   * @param context the scheduler's name, the state's settings and the host's services
   * @return the open state, which the host closes
   * @throws build.hearth.api.ConfigException for a bad setting, naming it
   * @throws build.hearth.api.HearthException UNAVAILABLE if the backing service cannot be reached
   */
  public abstract SchedulerState create(StoreContext context);
}
