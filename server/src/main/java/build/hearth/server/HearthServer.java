package build.hearth.server;

import build.hearth.api.ActionCache;
import build.hearth.api.ConfigException;
import build.hearth.api.ContentAddressableStorage;
import build.hearth.api.ExecutionService;
import build.hearth.core.Closer;
import build.hearth.core.ConfiguredStores;
import build.hearth.core.Storage;
import build.hearth.core.config.ExecutionConfig;
import build.hearth.core.config.HearthConfig;
import build.hearth.core.config.InstanceConfig;
import build.hearth.core.config.SchedulerConfig;
import build.hearth.core.config.ServerConfig;
import build.hearth.core.config.WorkerConfig;
import build.hearth.core.execution.ActionOutcome;
import build.hearth.core.execution.ExecutionServices;
import build.hearth.core.execution.ExecutionTask;
import build.hearth.core.execution.WorkerGateway;
import build.hearth.core.internal.Threads;
import build.hearth.core.ops.AdminRoutes;
import build.hearth.core.ops.HttpRoutes;
import build.hearth.core.ops.Metrics;
import build.hearth.core.ops.WorkerApiScheduler;
import build.hearth.core.ops.WorkerReports;
import build.hearth.core.persistent.PoolStats;
import build.hearth.core.scheduler.Scheduler;
import build.hearth.core.scheduler.WarmWorkers;
import build.hearth.core.worker.LocalWorker;
import build.hearth.spi.storage.StoreProviderRegistry;
import build.hearth.spi.transport.InstanceServices;
import build.hearth.spi.transport.Transport;
import build.hearth.spi.transport.TransportContext;
import build.hearth.spi.transport.TransportProvider;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running Hearth: the stores, schedulers, in-process workers and transports of a configuration.
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

  /** Everything the server opened, closed most recently opened first. */
  private final Closer resources;

  private final List<Transport> transports;
  private final Map<String, WorkerRuntime> workers;
  private final AdminRoutes admin;
  private final Object lock = new Object();
  private boolean closed;

  private HearthServer(
      Closer resources,
      List<Transport> transports,
      Map<String, WorkerRuntime> workers,
      AdminRoutes admin) {
    this.resources = resources;
    this.admin = admin;
    this.transports = List.copyOf(transports);
    // In configuration order, which persistentWorkerStats() keeps.
    this.workers = Collections.unmodifiableMap(new LinkedHashMap<>(workers));
  }

  /**
   * Opens the stores, starts the schedulers and in-process workers, and starts every server of
   * {@code config}, with the storage and transport providers visible to this class's class loader.
   *
   * @throws build.hearth.api.ConfigException for a configuration the providers refuse
   * @throws build.hearth.api.HearthException UNAVAILABLE if an address cannot be bound
   */
  public static HearthServer start(HearthConfig config) {
    ClassLoader loader = HearthServer.class.getClassLoader();
    return start(config, StoreProviderRegistry.discover(loader), transportProviders(loader));
  }

  /**
   * Starts {@code config} with the given providers.
   *
   * @param transportProviders the available transport providers by type
   */
  static HearthServer start(
      HearthConfig config,
      StoreProviderRegistry registry,
      Map<String, TransportProvider> transportProviders) {
    // Before anything opens: an unknown transport is a mistake in the file.
    List<TransportProvider> providers = new ArrayList<>();
    for (int i = 0; i < config.servers().size(); i++) {
      providers.add(transportProvider(config.servers().get(i), i, transportProviders));
    }
    Closer resources = new Closer();
    List<Transport> transports = new ArrayList<>();
    Map<String, WorkerRuntime> workers = new LinkedHashMap<>();
    AdminRoutes admin = null;
    try {
      ConfiguredStores stores = ConfiguredStores.open(config, registry, Clock.systemUTC());
      resources.register(stores);

      // What the workers last reported, and the server's metrics; both served on every port.
      WorkerReports reports = new WorkerReports();
      Metrics.Builder metricsBuilder = Metrics.newBuilder().workerReports(reports);
      config.blobStores().keySet().forEach(n -> metricsBuilder.blobStore(n, stores.blobStore(n)));
      config
          .actionCacheStores()
          .keySet()
          .forEach(n -> metricsBuilder.actionCacheStore(n, stores.actionCacheStore(n)));
      Metrics metrics = metricsBuilder.build();

      Map<String, Scheduler<ExecutionTask, ActionOutcome>> schedulers = new LinkedHashMap<>();
      // Each scheduler's record of the workers' idle persistent-worker processes, which its
      // workers report to and which it routes persistent-worker actions by.
      Map<String, WarmWorkers> warmWorkers = new HashMap<>();
      for (SchedulerConfig scheduler : config.schedulers().values()) {
        WarmWorkers warm = new WarmWorkers();
        Scheduler<ExecutionTask, ActionOutcome> built =
            scheduler
                .applyTo(Scheduler.newBuilder())
                .workerScorer(warm)
                .listener(metrics.schedulerListener(scheduler.name()))
                .build();
        resources.register(built);
        metrics.registerScheduler(scheduler.name(), built);
        schedulers.put(scheduler.name(), built);
        warmWorkers.put(scheduler.name(), warm);
      }

      AdminRoutes.Builder adminBuilder = AdminRoutes.newBuilder().workerReports(reports);
      schedulers.forEach(adminBuilder::scheduler);
      config.blobStores().keySet().forEach(n -> adminBuilder.casStore(n, stores.blobStore(n)));
      config
          .actionCacheStores()
          .keySet()
          .forEach(n -> adminBuilder.actionCacheStore(n, stores.actionCacheStore(n)));
      admin = adminBuilder.build();
      HttpRoutes routes = metrics.orElse(admin);

      // Completes executions and writes their results to the action cache, so neither holds a
      // worker's slot nor a transport thread.
      ExecutorService completions =
          Executors.newFixedThreadPool(2, Threads.daemon("hearth-completion-"));
      resources.register(completions::shutdown);

      List<TransportContext> contexts = new ArrayList<>();
      Map<String, ContentAddressableStorage> casByInstance = new HashMap<>();
      for (ServerConfig server : config.servers()) {
        contexts.add(
            context(
                server,
                stores,
                schedulers,
                warmWorkers,
                completions,
                casByInstance,
                metrics,
                reports,
                routes));
      }

      for (WorkerConfig worker : config.workers()) {
        WorkerRuntime runtime =
            startWorker(worker, registry, schedulers, warmWorkers, casByInstance, resources);
        workers.put(worker.name(), runtime);
        reports.registerLive(
            worker.name(), worker.scheduler().orElseThrow(), runtime::persistentWorkerStats);
      }

      for (int i = 0; i < contexts.size(); i++) {
        ServerConfig server = config.servers().get(i);
        Transport transport = providers.get(i).start(contexts.get(i));
        resources.register(transport);
        transports.add(transport);
        List<String> instances =
            server.instances().keySet().stream().map(n -> n.isEmpty() ? "\"\"" : n).toList();
        // Scripts and tests wait for "listening on HOST:PORT"; a transport without a port (such
        // as "inprocess") reports -1 and says so instead.
        if (transport.port() < 0) {
          log.info(
              "Hearth server '{}' serving over {} without a port (instances: {})",
              server.name(),
              server.transport(),
              instances);
        } else {
          log.info(
              "Hearth server '{}' listening on {}:{} over {} (instances: {})",
              server.name(),
              server.host(),
              transport.port(),
              server.transport(),
              instances);
        }
      }
    } catch (RuntimeException e) {
      resources.closeAfter(e);
      throw e;
    }
    return new HearthServer(resources, transports, workers, admin);
  }

  private static TransportContext context(
      ServerConfig server,
      ConfiguredStores stores,
      Map<String, Scheduler<ExecutionTask, ActionOutcome>> schedulers,
      Map<String, WarmWorkers> warmWorkers,
      Executor completions,
      Map<String, ContentAddressableStorage> casByInstance,
      Metrics metrics,
      WorkerReports reports,
      HttpRoutes routes) {
    TransportContext.Builder context =
        TransportContext.newBuilder(server.name(), server.host(), server.port())
            .maxBatchSizeBytes(server.maxBatchSizeBytes());
    for (InstanceConfig instance : server.instances().values()) {
      ContentAddressableStorage cas =
          metrics.cas(instance.name(), Storage.cas(stores.blobStore(instance.casStore())));
      casByInstance.putIfAbsent(instance.name(), cas);
      Optional<ActionCache> actionCache =
          instance
              .actionCacheStore()
              .map(
                  name ->
                      metrics.actionCache(
                          instance.name(),
                          Storage.actionCache(stores.actionCacheStore(name), cas)));
      Optional<ExecutionService> execution =
          instance
              .execution()
              .map(
                  e ->
                      executionService(
                          instance, e, cas, actionCache, schedulers, completions, metrics));
      context.instance(
          new InstanceServices(
              instance.name(), cas, actionCache, instance.actionCacheUpdates(), execution));
    }
    server
        .workerApi()
        .ifPresent(
            api -> {
              Scheduler<ExecutionTask, ActionOutcome> scheduler = schedulers.get(api.scheduler());
              context.service(WorkerGateway.class, scheduler::connect);
              context.service(WarmWorkers.class, warmWorkers.get(api.scheduler()));
              context.service(WorkerReports.class, reports);
              context.service(WorkerApiScheduler.class, new WorkerApiScheduler(api.scheduler()));
            });
    context.service(HttpRoutes.class, routes);
    return context.build();
  }

  private static ExecutionService executionService(
      InstanceConfig instance,
      ExecutionConfig execution,
      ContentAddressableStorage cas,
      Optional<ActionCache> actionCache,
      Map<String, Scheduler<ExecutionTask, ActionOutcome>> schedulers,
      Executor completions,
      Metrics metrics) {
    return ExecutionServices.newBuilder()
        .instanceName(instance.name())
        .cas(cas)
        .actionCache(actionCache)
        .scheduler(schedulers.get(execution.scheduler()))
        .defaultTimeout(execution.defaultTimeout())
        .maxTimeout(execution.maxTimeout())
        .completionExecutor(completions)
        .listener(metrics.executionListener(instance.name()))
        .build();
  }

  private static WorkerRuntime startWorker(
      WorkerConfig worker,
      StoreProviderRegistry registry,
      Map<String, Scheduler<ExecutionTask, ActionOutcome>> schedulers,
      Map<String, WarmWorkers> warmWorkers,
      Map<String, ContentAddressableStorage> casByInstance,
      Closer resources) {
    WorkerRuntime runtime =
        WorkerRuntime.open(
            worker,
            registry,
            instance -> {
              ContentAddressableStorage cas = casByInstance.get(instance);
              if (cas == null) {
                throw build.hearth.api.HearthException.invalidArgument(
                    "worker '%s' has no CAS for instance '%s'", worker.name(), instance);
              }
              return cas;
            });
    resources.register(runtime);
    String scheduler = worker.scheduler().orElseThrow();
    LocalWorker local =
        LocalWorker.newBuilder()
            .spec(worker.workerSpec())
            .runner(runtime)
            .warmWorkers(warmWorkers.get(scheduler))
            .build();
    resources.register(local);
    runtime.onWarmProcessesChanged(local::reportWarmProcesses);
    local.connect(schedulers.get(scheduler));
    log.info(
        "In-process worker '{}' ready with {} slots (work directory {})",
        worker.name(),
        worker.slots(),
        worker.workDirectory());
    return runtime;
  }

  /**
   * The available transport providers visible to {@code loader}, by type; the first of a type wins.
   * A provider that cannot be loaded is logged and skipped, so one broken plugin does not stop the
   * others.
   */
  static Map<String, TransportProvider> transportProviders(ClassLoader loader) {
    Map<String, TransportProvider> providers = new LinkedHashMap<>();
    Iterator<TransportProvider> found =
        ServiceLoader.load(TransportProvider.class, loader).iterator();
    while (true) {
      TransportProvider provider;
      try {
        if (!found.hasNext()) {
          break;
        }
        provider = found.next();
      } catch (ServiceConfigurationError e) {
        log.warn("Skipping a transport provider that cannot be loaded: {}", e.getMessage());
        continue;
      }
      if (provider.isAvailable()) {
        providers.putIfAbsent(provider.type(), provider);
      } else {
        log.info("Transport '{}' is not available in this process", provider.type());
      }
    }
    return providers;
  }

  private static TransportProvider transportProvider(
      ServerConfig server, int index, Map<String, TransportProvider> providers) {
    TransportProvider provider = providers.get(server.transport());
    if (provider != null) {
      return provider;
    }
    StringBuilder known = new StringBuilder();
    providers.forEach(
        (type, p) ->
            known
                .append(known.length() == 0 ? "" : ", ")
                .append('\'')
                .append(type)
                .append("' (")
                .append(p.getClass().getName())
                .append(')'));
    throw new ConfigException(
        "servers[" + index + "].transport",
        server.transportLine(),
        "unknown transport '"
            + server.transport()
            + "'; known transports: "
            + (known.length() == 0 ? "none" : known)
            + ". \"grpc\" and \"inprocess\" come with hearth-grpc; a plugin's transport needs"
            + " its jar on the class path.");
  }

  /**
   * The persistent-worker statistics of each in-process worker, by worker name; a worker with
   * persistent workers disabled is left out. A snapshot, in the configuration's order.
   */
  public Map<String, PoolStats> persistentWorkerStats() {
    Map<String, PoolStats> stats = new LinkedHashMap<>();
    workers.forEach(
        (name, runtime) -> runtime.persistentWorkerStats().ifPresent(s -> stats.put(name, s)));
    return stats;
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

  /**
   * Stops accepting calls (letting calls in flight finish briefly), stops the in-process workers
   * (killing their commands), the schedulers, and closes the stores.
   */
  @Override
  public void close() {
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
      lock.notifyAll();
    }
    admin.notReady("the server is shutting down");
    for (Transport transport : transports) {
      transport.shutdown(Duration.ofSeconds(5));
    }
    try {
      resources.close();
    } finally {
      log.info("Hearth stopped");
    }
  }
}
