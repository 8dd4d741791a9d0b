package build.hearth.spi.transport;

import build.hearth.api.ConfigException;
import build.hearth.spi.internal.ProviderLookup;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;

/**
 * The transport providers one Hearth instance may use, by type name; the transport counterpart of
 * {@link build.hearth.spi.storage.StoreProviderRegistry}, and it behaves the same way.
 *
 * <p>{@link #discover(ClassLoader)} finds them with {@link ServiceLoader}; a provider that fails to
 * load, or whose {@code type()}, {@code isAvailable()} or {@code priority()} throws, is logged and
 * skipped, so one broken plugin never stops the others. Unavailable providers are left out, and
 * when two claim one type the higher {@link TransportProvider#priority()} wins. A registry can also
 * be built from an explicit list, so two instances in one JVM can use different transports; there
 * is no global registry.
 *
 * <p>Immutable and thread-safe.
 *
 * <pre>{@code
 * TransportProviderRegistry transports =
 *     TransportProviderRegistry.discover(getClass().getClassLoader());
 * Transport transport = transports.provider("grpc", "servers[0].transport", 0).start(context);
 * }</pre>
 */
public final class TransportProviderRegistry {
  private static final ProviderLookup<TransportProvider> LOOKUP =
      new ProviderLookup<>(
          "transport provider",
          TransportProvider::type,
          TransportProvider::isAvailable,
          TransportProvider::priority);

  private final Map<String, TransportProvider> providers;

  private TransportProviderRegistry(List<? extends TransportProvider> providers) {
    this.providers = LOOKUP.byType(providers);
  }

  /**
   * Finds the providers visible to a class loader through {@link ServiceLoader}. Never fails for a
   * broken plugin: it is logged and left out.
   *
   * @param classLoader where to look for {@code META-INF/services} entries
   * @return a registry of the available providers, the highest priority for each type
   */
  public static TransportProviderRegistry discover(ClassLoader classLoader) {
    return new TransportProviderRegistry(LOOKUP.load(TransportProvider.class, classLoader));
  }

  /**
   * A registry of exactly these providers (unavailable ones are still left out), for embedders and
   * tests that choose their transports in code.
   *
   * @param providers the transport providers; copied
   * @return a registry of those providers, the highest priority for each type
   */
  public static TransportProviderRegistry of(List<? extends TransportProvider> providers) {
    return new TransportProviderRegistry(List.copyOf(providers));
  }

  /** {@return the known transport types, sorted} */
  public List<String> types() {
    return List.copyOf(providers.keySet());
  }

  /**
   * The provider of {@code type}.
   *
   * @param type the transport named in the configuration, such as {@code "grpc"}
   * @param typePath the JSON path of the {@code transport} field, for errors
   * @param typeLine its line, or 0
   * @return the provider that serves {@code type}
   * @throws ConfigException if no available provider serves {@code type}; the message lists the
   *     known types and the jar each comes from
   */
  public TransportProvider provider(String type, String typePath, int typeLine) {
    TransportProvider provider = providers.get(type);
    if (provider == null) {
      throw new ConfigException(
          typePath,
          typeLine,
          "unknown transport '"
              + type
              + "'; known transports: "
              + ProviderLookup.describe(providers)
              + ". \"grpc\" and \"inprocess\" come with hearth-grpc; a plugin's transport needs"
              + " its jar on the class path.");
    }
    return provider;
  }
}
