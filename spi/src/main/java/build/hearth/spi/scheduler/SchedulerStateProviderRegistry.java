package build.hearth.spi.scheduler;

import build.hearth.api.ConfigException;
import build.hearth.spi.internal.ProviderLookup;
import build.hearth.spi.storage.StoreContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The scheduler-state providers a host can use, by type, found as the storage providers are.
 *
 * <pre>{@code
 * SchedulerStateProviderRegistry registry =
 *     SchedulerStateProviderRegistry.discover(getClass().getClassLoader());
 * SchedulerState state = registry.create("redis", "schedulers.default.state.type", 0, context);
 * }</pre>
 */
public final class SchedulerStateProviderRegistry {
  private static final ProviderLookup<SchedulerStateProvider> LOOKUP =
      new ProviderLookup<>(
          "scheduler-state provider",
          SchedulerStateProvider::type,
          SchedulerStateProvider::isAvailable,
          SchedulerStateProvider::priority);

  private final Map<String, SchedulerStateProvider> providers;

  private SchedulerStateProviderRegistry(List<SchedulerStateProvider> providers) {
    this.providers = LOOKUP.byType(providers);
  }

  /**
   * Finds the providers visible to a class loader; a broken one is logged and left out.
   *
   * @param classLoader where to look for {@code META-INF/services} entries
   * @return a registry of the available providers, the highest priority for each type
   */
  public static SchedulerStateProviderRegistry discover(ClassLoader classLoader) {
    return new SchedulerStateProviderRegistry(
        LOOKUP.load(SchedulerStateProvider.class, classLoader));
  }

  /**
   * A registry of exactly these providers, for embedders and tests.
   *
   * @param providers the providers; copied
   * @return a registry of the available ones, the highest priority for each type
   */
  public static SchedulerStateProviderRegistry of(
      List<? extends SchedulerStateProvider> providers) {
    return new SchedulerStateProviderRegistry(new ArrayList<>(providers));
  }

  /** {@return the known types, sorted} */
  public List<String> types() {
    return List.copyOf(providers.keySet());
  }

  /**
   * Opens a state of {@code type} and checks that it understood every setting; if one is unknown,
   * the new state is closed before the exception is thrown.
   *
   * @param type the type named in the configuration, such as {@code "redis"}
   * @param typePath the JSON path of the {@code type} field, for errors
   * @param typeLine its line, or 0
   * @param context the scheduler's name, the state's settings and the host's services
   * @return the open state; the caller closes it
   * @throws ConfigException if the type is unknown (listing the known ones) or a setting is bad
   */
  public SchedulerState create(String type, String typePath, int typeLine, StoreContext context) {
    SchedulerStateProvider provider = providers.get(type);
    if (provider == null) {
      String known =
          providers.keySet().stream().map(t -> "\"" + t + "\"").collect(Collectors.joining(", "));
      throw new ConfigException(
          typePath,
          typeLine,
          "unknown scheduler state type \""
              + type
              + "\"; known types: "
              + known
              + " (the redis type comes with hearth-redis on the class path)");
    }
    SchedulerState state = provider.create(context);
    try {
      context.settings().rejectUnknown(type);
    } catch (ConfigException e) {
      state.close();
      throw e;
    }
    return state;
  }
}
