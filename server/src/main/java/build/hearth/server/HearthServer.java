package build.hearth.server;

import build.hearth.api.ActionCache;
import build.hearth.api.ContentAddressableStorage;
import build.hearth.api.ExecutionService;
import build.hearth.api.HearthException;
import build.hearth.api.PoolStats;
import build.hearth.core.Closer;
import build.hearth.core.ConfiguredStores;
import build.hearth.core.Storage;
import build.hearth.core.config.HearthConfig;
import build.hearth.core.config.InstanceConfig;
import build.hearth.core.config.SchedulerConfig;
import build.hearth.core.config.ServerConfig;
import build.hearth.core.config.StoreConfig;
import build.hearth.core.config.WorkerConfig;
import build.hearth.core.execution.ExecutionServices;
import build.hearth.core.execution.ExecutionStateCodecs;
import build.hearth.core.internal.Threads;
import build.hearth.core.ops.AdminRoutes;
import build.hearth.core.ops.Metrics;
import build.hearth.core.ops.WorkerReports;
import build.hearth.core.remote.SchedulerWorkerHub;
import build.hearth.core.scheduler.Scheduler;
import build.hearth.core.scheduler.SchedulerBuilder;
import build.hearth.core.scheduler.SharedState;
import build.hearth.core.scheduler.WarmWorkers;
import build.hearth.core.security.ConfiguredAccessControl;
import build.hearth.core.worker.WorkerRuntime;
import build.hearth.spi.scheduler.SchedulerState;
import build.hearth.spi.scheduler.SchedulerStateProviderRegistry;
import build.hearth.spi.storage.StoreContext;
import build.hearth.spi.storage.StoreProviderRegistry;
import build.hearth.spi.transport.HttpRoutes;
import build.hearth.spi.transport.InstanceServices;
import build.hearth.spi.transport.Transport;
import build.hearth.spi.transport.TransportContext;
import build.hearth.spi.transport.TransportProvider;
import build.hearth.spi.transport.TransportProviderRegistry;
import build.hearth.spi.worker.ActionOutcome;
import build.hearth.spi.worker.ExecutionTask;
import build.hearth.spi.worker.WorkerSpec;
import build.hearth.web.ActionLinks;
import build.hearth.web.PagePool;
import build.hearth.web.RecentActions;
import build.hearth.web.WebUi;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
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
   * @param config the configuration to run
   * @return the running server
   * @throws build.hearth.api.ConfigException for a configuration the providers refuse
   * @throws build.hearth.api.HearthException UNAVAILABLE if an address cannot be bound
   */
  public static HearthServer start(HearthConfig config) {
    ClassLoader loader = HearthServer.class.getClassLoader();
    return start(
        config, StoreProviderRegistry.discover(loader), TransportProviderRegistry.discover(loader));
  }

  /** Starts {@code config} with the given providers, and the scheduler states visible here. */
  static HearthServer start(
      HearthConfig config,
      StoreProviderRegistry storeProviders,
      TransportProviderRegistry transportProviders) {
    return start(
        config,
        storeProviders,
        SchedulerStateProviderRegistry.discover(HearthServer.class.getClassLoader()),
        transportProviders);
  }

  /** Starts {@code config} with the given providers. */
  static HearthServer start(
      HearthConfig config,
      StoreProviderRegistry storeProviders,
      SchedulerStateProviderRegistry stateProviders,
      TransportProviderRegistry transportProviders) {
    // Before anything opens: an unknown transport is a mistake in the file.
    List<TransportProvider> providers = new ArrayList<>();
    for (int i = 0; i < config.servers().size(); i++) {
      ServerConfig server = config.servers().get(i);
      providers.add(
          transportProviders.provider(
              server.transport(), "servers[" + i + "].transport", server.transportLine()));
    }
    Startup startup = new Startup(config, storeProviders, stateProviders);
    try {
      startup.openStores();
      startup.startSchedulers();
      List<TransportContext> contexts = startup.transportContexts();
      startup.startWorkers();
      startup.startTransports(providers, contexts);
    } catch (RuntimeException e) {
      startup.resources.closeAfter(e);
      throw e;
    }
    return new HearthServer(startup.resources, startup.transports, startup.workers, startup.admin);
  }

  /**
   * The steps of {@link #start}, in order, and what each leaves for the next. Used by one thread,
   * once; everything it opens is registered with {@link #resources}, so a failing step closes what
   * the earlier ones opened.
   */
  private static final class Startup {
    final HearthConfig config;
    final StoreProviderRegistry storeProviders;
    final SchedulerStateProviderRegistry stateProviders;
    final Closer resources = new Closer();
    // This process's name in shared scheduler states: unique per start, so that a restarted
    // server is a new one to the others.
    final String serverId = serverId();
    // The server's one clock: stores and the workers' reports are dated by it.
    final Clock clock = Clock.systemUTC();
    // What the workers last reported; served on every port.
    final WorkerReports reports = new WorkerReports(clock);
    final Map<String, Scheduler<ExecutionTask, ActionOutcome>> schedulers = new LinkedHashMap<>();
    // Each scheduler's record of the workers' idle persistent-worker processes, which its workers
    // report to and which it routes persistent-worker actions by.
    final Map<String, WarmWorkers> warmWorkers = new HashMap<>();
    // The schedulers whose state is shared with other servers; they record results themselves.
    final Set<String> sharedSchedulers = new HashSet<>();
    // Each instance's action cache, where a shared scheduler records the results it hears of.
    final Map<String, Optional<ActionCache>> actionCaches = new ConcurrentHashMap<>();
    // The CAS each instance name is served with, which in-process workers of that instance use.
    final Map<String, ContentAddressableStorage> casByInstance = new HashMap<>();
    final Map<String, WorkerRuntime> workers = new LinkedHashMap<>();
    // Read by completion threads (failed actions' links) while later servers still start.
    final List<Transport> transports = new CopyOnWriteArrayList<>();
    // The web UI's record of recent executions, fed by every instance's execution service.
    final RecentActions recentActions;
    final ActionLinks links;
    // The threads every server's pages render on, off the transports' I/O threads; null when the
    // web UI is off.
    PagePool pagePool;
    ConfiguredStores stores;
    Metrics metrics;
    AdminRoutes admin;
    // Completes executions and writes their results to the action cache, so neither holds a
    // worker's slot nor a transport thread.
    Executor completions;

    Startup(
        HearthConfig config,
        StoreProviderRegistry storeProviders,
        SchedulerStateProviderRegistry stateProviders) {
      this.config = config;
      this.storeProviders = storeProviders;
      this.stateProviders = stateProviders;
      this.recentActions =
          RecentActions.create(
              config.web().recentActions(), config.web().recentActionsMaxBytes(), clock);
      this.links = ActionLinks.of(config.web().externalUrl());
    }

    /** Opens every configured store and the metrics that watch them. */
    void openStores() {
      stores = resources.register(ConfiguredStores.open(config, storeProviders, clock));
      Metrics.Builder metricsBuilder =
          Metrics.newBuilder()
              .workerReports(reports)
              .maxPersistentWorkerSeries(config.maxPersistentWorkerSeries());
      config.blobStores().keySet().forEach(n -> metricsBuilder.blobStore(n, stores.blobStore(n)));
      config
          .actionCacheStores()
          .keySet()
          .forEach(n -> metricsBuilder.actionCacheStore(n, stores.actionCacheStore(n)));
      metrics = metricsBuilder.build();
    }

    /** Starts every scheduler, and the admin routes that show them beside the stores. */
    void startSchedulers() {
      AdminRoutes.Builder adminBuilder = AdminRoutes.newBuilder().workerReports(reports);
      for (SchedulerConfig scheduler : config.schedulers().values()) {
        WarmWorkers warm = new WarmWorkers();
        SchedulerBuilder builder =
            scheduler
                .applyTo(Scheduler.newBuilder())
                .workerScorer(warm)
                .listener(metrics.schedulerListener(scheduler.name()));
        Scheduler<ExecutionTask, ActionOutcome> built;
        if (scheduler.state().isPresent()) {
          SchedulerState state = openState(scheduler.name(), scheduler.state().get());
          adminBuilder.readinessCheck(
              () ->
                  state
                      .health()
                      .problem()
                      .map(
                          problem ->
                              "the shared state of scheduler '"
                                  + scheduler.name()
                                  + "' is unavailable: "
                                  + problem));
          built =
              resources.register(
                  builder.build(
                      new SharedState<>(
                          state,
                          serverId,
                          ExecutionStateCodecs.tasks(),
                          ExecutionStateCodecs.outcomes(),
                          ExecutionServices.resultHook(
                              instance -> actionCaches.getOrDefault(instance, Optional.empty())),
                          scheduler.workerLease(),
                          SHARED_RESULT_RETENTION,
                          worker -> warm.idle(worker).keySet())));
          sharedSchedulers.add(scheduler.name());
        } else {
          built = resources.register(builder.build());
        }
        metrics.registerScheduler(scheduler.name(), built);
        schedulers.put(scheduler.name(), built);
        warmWorkers.put(scheduler.name(), warm);
      }
      schedulers.forEach(adminBuilder::scheduler);
      config.blobStores().keySet().forEach(n -> adminBuilder.casStore(n, stores.blobStore(n)));
      config
          .actionCacheStores()
          .keySet()
          .forEach(n -> adminBuilder.actionCacheStore(n, stores.actionCacheStore(n)));
      admin = adminBuilder.build();
      ExecutorService pool = Executors.newFixedThreadPool(2, Threads.daemon("hearth-completion-"));
      resources.register(pool::shutdown);
      completions = pool;
    }

    private SchedulerState openState(String scheduler, StoreConfig state) {
      return resources.register(
          stateProviders.create(
              state.type(),
              state.typePath(),
              state.typeLine(),
              StoreContext.newBuilder(scheduler, state.settings()).clock(clock).build()));
    }

    /** What each configured server serves: its instances' services and the server-wide ones. */
    List<TransportContext> transportContexts() {
      HttpRoutes routes = metrics.orElse(admin);
      List<TransportContext> contexts = new ArrayList<>();
      for (ServerConfig server : config.servers()) {
        contexts.add(context(server, routes));
      }
      return contexts;
    }

    private TransportContext context(ServerConfig server, HttpRoutes routes) {
      TransportContext.Builder context =
          TransportContext.newBuilder(server.name(), server.host(), server.port())
              .maxBatchSizeBytes(server.maxBatchSizeBytes())
              .limits(server.limits())
              .limitRefusals(metrics.limitRefusalCounter(server.name()));
      WebUi.Builder web =
          WebUi.newBuilder(recentActions, links).workerReports(reports).clock(clock);
      if (config.web().enabled()) {
        web.executor(pagePool());
      }
      schedulers.forEach(web::scheduler);
      for (InstanceConfig instance : server.instances().values()) {
        InstanceServices services = instanceServices(instance, pageLinks(server));
        context.instance(services);
        web.instance(services.name(), services.cas(), services.actionCache());
      }
      if (config.web().enabled()) {
        // The pages answer only under /ui/; everything else goes on to metrics and admin.
        routes = web.build().orElse(routes);
      }
      server
          .workerApi()
          .ifPresent(
              api ->
                  context.workerHub(
                      new SchedulerWorkerHub(
                          api.scheduler(),
                          schedulers.get(api.scheduler()),
                          warmWorkers.get(api.scheduler()),
                          reports,
                          api.maxAssignmentBytes())));
      server.tls().ifPresent(tls -> context.tls(tls.settings()));
      return context
          .httpRoutes(routes)
          .accessControl(
              ConfiguredAccessControl.newBuilder(server.name(), server.access())
                  .refusalCounter(metrics.refusalCounter(server.name()))
                  .build())
          .build();
    }

    /** The pages' threads, started with the first server that serves them. */
    private PagePool pagePool() {
      if (pagePool == null) {
        // Closed before the stores and after the transports, which register later.
        pagePool =
            resources.register(
                PagePool.create(
                    config.web().threads(), config.web().maxQueuedPages(), "hearth-web-"));
      }
      return pagePool;
    }

    /**
     * The links put in failed actions' messages: under {@code web.externalUrl} when it is set, else
     * under this server's own address (its host name when it listens on every address, its bound
     * port when it asked for any), since a path alone would not lead Bazel's user anywhere. Made
     * when the first action fails, by which time the server listens.
     */
    private Supplier<ActionLinks> pageLinks(ServerConfig server) {
      if (!config.web().externalUrl().isEmpty()) {
        return () -> links;
      }
      int index = config.servers().indexOf(server);
      AtomicReference<ActionLinks> made = new AtomicReference<>();
      return () -> {
        ActionLinks known = made.get();
        if (known != null) {
          return known;
        }
        int port =
            server.port() != 0
                ? server.port()
                : index < transports.size() ? transports.get(index).port() : -1;
        if (port <= 0) {
          return links; // not listening yet, or a transport without a port: the path only
        }
        String host = server.host();
        if (host.equals("0.0.0.0") || host.equals("::")) {
          try {
            host = InetAddress.getLocalHost().getHostName();
          } catch (UnknownHostException e) {
            host = "localhost";
          }
        }
        String scheme = server.tls().isPresent() ? "https" : "http";
        String authority = host.contains(":") ? "[" + host + "]" : host;
        made.compareAndSet(null, ActionLinks.of(scheme + "://" + authority + ":" + port));
        return made.get();
      };
    }

    private InstanceServices instanceServices(
        InstanceConfig instance, Supplier<ActionLinks> pageLinks) {
      ContentAddressableStorage cas =
          metrics.cas(
              instance.name(),
              Storage.cas(stores.blobStore(instance.casStore()), instance.maxDirectoryBytes()));
      casByInstance.putIfAbsent(instance.name(), cas);
      // Read by shared schedulers' result hooks from now on: put before the service exists.
      Optional<ActionCache> actionCache =
          instance
              .actionCacheStore()
              .map(
                  name ->
                      metrics.actionCache(
                          instance.name(),
                          Storage.actionCache(
                              stores.actionCacheStore(name),
                              cas,
                              instance.maxDirectoryBytes(),
                              instance.maxTreeBytes())));
      actionCaches.putIfAbsent(instance.name(), actionCache);
      Optional<ExecutionService> execution =
          instance
              .execution()
              .map(
                  e ->
                      e.applyTo(ExecutionServices.newBuilder())
                          .instanceName(instance.name())
                          .cas(cas)
                          .actionCache(actionCache)
                          .scheduler(schedulers.get(e.scheduler()))
                          .resultsRecordedByScheduler(sharedSchedulers.contains(e.scheduler()))
                          .completionExecutor(completions)
                          .listener(listener(instance.name()))
                          .actionPages(
                              digest ->
                                  config.web().enabled()
                                      ? pageLinks.get().action(instance.name(), digest)
                                      : "")
                          .build());
      return new InstanceServices(
          instance.name(), cas, actionCache, instance.actionCacheUpdates(), execution);
    }

    /** The metrics' listener of an instance's executions, behind the web UI's recorder. */
    private build.hearth.core.execution.ExecutionListener listener(String instanceName) {
      build.hearth.core.execution.ExecutionListener metered =
          metrics.executionListener(instanceName);
      return config.web().enabled() ? recentActions.listener(instanceName, metered) : metered;
    }

    /** Starts the in-process workers, each connected to its scheduler. */
    void startWorkers() {
      for (WorkerConfig worker : config.workers()) {
        WorkerRuntime runtime =
            resources.register(
                WorkerRuntime.open(worker, storeProviders, instance -> casFor(worker, instance)));
        String scheduler = worker.scheduler().orElseThrow();
        // The worker offers the network its sandbox gives actions, found as the runtime started.
        WorkerSpec spec =
            WorkerSpec.builder(worker.name())
                .slots(worker.slots())
                .properties(runtime.offeredProperties(worker.offeredProperties()))
                .build();
        runtime.serve(spec, schedulers.get(scheduler), warmWorkers.get(scheduler));
        log.info(
            "In-process worker '{}' ready with {} slots (work directory {})",
            worker.name(),
            worker.slots(),
            worker.workDirectory());
        workers.put(worker.name(), runtime);
        reports.registerLive(
            worker.name(),
            scheduler,
            runtime::persistentWorkerStats,
            WorkerReports.Sandbox.of(runtime.sandboxCapabilities()));
      }
    }

    private ContentAddressableStorage casFor(WorkerConfig worker, String instance) {
      ContentAddressableStorage cas = casByInstance.get(instance);
      if (cas == null) {
        throw HearthException.invalidArgument(
            "worker '%s' has no CAS for instance '%s'", worker.name(), instance);
      }
      return cas;
    }

    /** Starts one transport per server, in configuration order, and says where each listens. */
    void startTransports(List<TransportProvider> providers, List<TransportContext> contexts) {
      for (int i = 0; i < contexts.size(); i++) {
        ServerConfig server = config.servers().get(i);
        Transport transport = resources.register(providers.get(i).start(contexts.get(i)));
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
    }
  }

  /**
   * {@return the persistent-worker statistics of each in-process worker, by worker name; a worker
   * with persistent workers disabled is left out} A snapshot, in the configuration's order.
   */
  public Map<String, PoolStats> persistentWorkerStats() {
    Map<String, PoolStats> stats = new LinkedHashMap<>();
    workers.forEach(
        (name, runtime) -> runtime.persistentWorkerStats().ifPresent(s -> stats.put(name, s)));
    return stats;
  }

  /** {@return the port of the first server, with port 0 resolved to the one bound} */
  public int port() {
    return transports.get(0).port();
  }

  /** {@return the ports of all servers, in configuration order} */
  public List<Integer> ports() {
    return transports.stream().map(Transport::port).toList();
  }

  /**
   * Blocks until {@link #close()} is called from another thread.
   *
   * @throws InterruptedException if the waiting thread is interrupted
   */
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

  /**
   * How long a shared scheduler keeps completed results readable in its state: the execution
   * services' retention of completed operations, so that WaitExecution on another server finds a
   * result as long as it would on this one.
   */
  private static final Duration SHARED_RESULT_RETENTION = Duration.ofMinutes(10);

  /** A name for this process among the servers sharing a scheduler state: host, pid and a nonce. */
  private static String serverId() {
    String host;
    try {
      host = InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException e) {
      host = "localhost";
    }
    return host
        + ":"
        + ProcessHandle.current().pid()
        + ":"
        + UUID.randomUUID().toString().substring(0, 8);
  }
}
