package build.hearth.server;

import build.hearth.api.ActionCache;
import build.hearth.api.ContentAddressableStorage;
import build.hearth.api.HearthException;
import build.hearth.core.ConfiguredStores;
import build.hearth.core.Storage;
import build.hearth.core.config.HearthConfig;
import build.hearth.core.config.InstanceConfig;
import build.hearth.core.config.ServerConfig;
import build.hearth.spi.storage.StoreProviderRegistry;
import build.hearth.spi.transport.InstanceServices;
import build.hearth.spi.transport.Transport;
import build.hearth.spi.transport.TransportContext;
import build.hearth.spi.transport.TransportProvider;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.ServiceLoader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running Hearth: the stores of a configuration and one transport per configured server.
 *
 * <pre>{@code
 * try (HearthServer server = HearthServer.start(HearthConfig.embeddedDefault())) {
 *   System.out.println("listening on " + server.port());
 *   server.awaitShutdown();
 * }
 * }</pre>
 *
 * <p>Thread-safe. Several servers can run in one JVM; nothing is global.
 */
public final class HearthServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(HearthServer.class);
  private static final String TRANSPORT = "grpc";

  private final ConfiguredStores stores;
  private final List<Transport> transports;
  private final Object lock = new Object();
  private boolean closed;

  private HearthServer(ConfiguredStores stores, List<Transport> transports) {
    this.stores = stores;
    this.transports = List.copyOf(transports);
  }

  /**
   * Opens the stores and starts every server of {@code config}, with the storage and transport
   * providers visible to this class's class loader.
   *
   * @throws build.hearth.api.ConfigException for a configuration the providers refuse
   * @throws HearthException UNAVAILABLE if an address cannot be bound
   */
  public static HearthServer start(HearthConfig config) {
    ClassLoader loader = HearthServer.class.getClassLoader();
    return start(config, StoreProviderRegistry.discover(loader), transportProvider(loader));
  }

  static HearthServer start(
      HearthConfig config, StoreProviderRegistry registry, TransportProvider transportProvider) {
    ConfiguredStores stores = ConfiguredStores.open(config, registry, Clock.systemUTC());
    List<Transport> started = new ArrayList<>();
    try {
      for (ServerConfig server : config.servers()) {
        Transport transport = transportProvider.start(context(server, stores));
        started.add(transport);
        log.info(
            "Hearth server '{}' listening on {}:{} (instances: {})",
            server.name(),
            server.host(),
            transport.port(),
            server.instances().keySet().stream().map(n -> n.isEmpty() ? "\"\"" : n).toList());
      }
    } catch (RuntimeException e) {
      started.forEach(t -> t.shutdown(Duration.ZERO));
      stores.close();
      throw e;
    }
    return new HearthServer(stores, started);
  }

  private static TransportContext context(ServerConfig server, ConfiguredStores stores) {
    TransportContext.Builder context =
        TransportContext.newBuilder(server.name(), server.host(), server.port())
            .maxBatchSizeBytes(server.maxBatchSizeBytes());
    for (InstanceConfig instance : server.instances().values()) {
      ContentAddressableStorage cas = Storage.cas(stores.blobStore(instance.casStore()));
      Optional<ActionCache> actionCache =
          instance
              .actionCacheStore()
              .map(name -> Storage.actionCache(stores.actionCacheStore(name), cas));
      context.instance(
          new InstanceServices(instance.name(), cas, actionCache, instance.actionCacheUpdates()));
    }
    return context.build();
  }

  private static TransportProvider transportProvider(ClassLoader loader) {
    List<String> found = new ArrayList<>();
    for (TransportProvider provider : ServiceLoader.load(TransportProvider.class, loader)) {
      if (provider.type().equals(TRANSPORT) && provider.isAvailable()) {
        return provider;
      }
      found.add(provider.type());
    }
    throw new IllegalStateException(
        "no '"
            + TRANSPORT
            + "' transport on the class path (found: "
            + found
            + "); add hearth-grpc");
  }

  /** The port of the first server, with port 0 resolved to the one bound. */
  public int port() {
    return transports.get(0).port();
  }

  /** The ports of all servers, in configuration order. */
  public List<Integer> ports() {
    return transports.stream().map(Transport::port).toList();
  }

  /** Blocks until {@link #close()} is called from another thread. */
  public void awaitShutdown() throws InterruptedException {
    synchronized (lock) {
      while (!closed) {
        lock.wait();
      }
    }
  }

  /** Stops the transports, letting calls in flight finish briefly, then closes the stores. */
  @Override
  public void close() {
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
      lock.notifyAll();
    }
    try {
      for (Transport transport : transports) {
        transport.shutdown(Duration.ofSeconds(5));
      }
    } finally {
      stores.close();
      log.info("Hearth stopped");
    }
  }
}
