package build.hearth.core.worker;

import build.hearth.api.ContentAddressableStorage;
import build.hearth.api.PoolStats;
import build.hearth.core.cas.DirectoryBlobs;
import build.hearth.core.config.PersistentWorkersConfig;
import build.hearth.core.config.SandboxConfig;
import build.hearth.core.config.WorkerConfig;
import build.hearth.core.execution.ActionRunner;
import build.hearth.core.execution.Cancellation;
import build.hearth.core.sandbox.SandboxCapabilities;
import build.hearth.core.sandbox.SandboxProperties;
import build.hearth.core.scheduler.Scheduler;
import build.hearth.core.scheduler.WarmWorkers;
import build.hearth.spi.storage.BlobStore;
import build.hearth.spi.storage.StoreContext;
import build.hearth.spi.storage.StoreProviderRegistry;
import build.hearth.spi.storage.StoreSettings;
import build.hearth.spi.worker.ActionOutcome;
import build.hearth.spi.worker.ExecutionTask;
import build.hearth.spi.worker.WorkerSpec;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Everything one worker needs on this machine, assembled in one place: the local CAS cache that
 * exec roots are hard-linked from, the {@link LocalActionRunner} that builds and runs them (with
 * its persistent-worker pool), and, once {@link #serve} is called, the {@link LocalWorker} that
 * takes a scheduler's assignments. The embedding builder, the server's in-process workers and
 * {@code hearth worker} all make their workers here, so they cannot drift apart.
 *
 * <pre>{@code
 * WorkerRuntime runtime =
 *     WorkerRuntime.newBuilder("local")
 *         .workDirectory(dir.resolve("work"))
 *         .cache(registry, "localExecution.cache", dir.resolve("cache"), 10L << 30)
 *         .cas(instance -> cas)
 *         .build();
 * runtime.serve(WorkerSpec.builder("local").slots(4).build(), scheduler, warmWorkers);
 * }</pre>
 *
 * <p>Thread-safe. {@link #close()} stops the worker (killing the commands it runs), then the
 * runner, then closes the cache if the runtime opened it.
 */
public final class WorkerRuntime implements ActionRunner {
  private static final Logger log = LoggerFactory.getLogger(WorkerRuntime.class);

  private final BlobStore ownedCache; // null when the cache belongs to someone else
  private final LocalActionRunner runner;
  private final List<String> network;
  private final Object lock = new Object();
  private LocalWorker worker; // guarded by lock; null until serve
  private boolean closed; // guarded by lock

  private WorkerRuntime(BlobStore ownedCache, LocalActionRunner runner, List<String> network) {
    this.ownedCache = ownedCache;
    this.runner = runner;
    this.network = network;
  }

  /**
   * The values of the platform property {@code network} that a worker offers: {@code off} when its
   * sandbox cuts actions off the network, {@code on} when its sandbox is off or its configuration
   * lets actions have the network. A worker that can do neither (its sandbox is on but the kernel
   * refused the network namespace, and actions may not have the network) offers none, so actions
   * that name {@code network} never run there.
   *
   * @param sandbox the worker's configuration
   * @param capabilities what its sandbox does on this machine
   * @return {@code off}, {@code on}, both, or none, in that order
   */
  public static List<String> networkValues(
      SandboxConfig sandbox, SandboxCapabilities capabilities) {
    List<String> values = new ArrayList<>(2);
    if (capabilities.has(SandboxCapabilities.Part.NETWORK)) {
      values.add(SandboxProperties.OFF);
    }
    if (capabilities.mode() == SandboxConfig.Mode.OFF || sandbox.allowNetwork()) {
      values.add(SandboxProperties.ON);
    }
    return List.copyOf(values);
  }

  /**
   * Starts a runtime for a configured worker: its cache is a {@code filesystem} store at the
   * configured path and size, created through {@code registry}.
   *
   * @param worker the worker's configuration
   * @param registry where the {@code filesystem} store provider comes from
   * @param casForInstance where each instance's inputs come from and outputs go to
   * @throws build.hearth.api.ConfigException if the cache cannot be opened as configured
   * @throws build.hearth.api.HearthException FAILED_PRECONDITION if the worker's sandbox is
   *     required and the machine refuses part of it
   */
  public static WorkerRuntime open(
      WorkerConfig worker,
      StoreProviderRegistry registry,
      Function<String, ContentAddressableStorage> casForInstance) {
    return newBuilder(worker.name())
        .workDirectory(worker.workDirectory())
        .cache(
            registry,
            "workers." + worker.name() + ".cache",
            worker.cachePath(),
            worker.cacheMaxSizeBytes())
        .cas(casForInstance)
        .persistentWorkers(worker.persistentWorkers())
        .sandbox(worker.sandbox())
        .maxDirectoryBytes(worker.maxDirectoryBytes())
        .build();
  }

  /**
   * Starts a builder.
   *
   * @param name the worker's name, in logs and in the paths of its exec roots
   * @return a builder, used by one thread
   */
  public static Builder newBuilder(String name) {
    return new Builder(name);
  }

  @Override
  public ActionOutcome run(ExecutionTask task, Cancellation cancellation) {
    return runner.run(task, cancellation);
  }

  /**
   * Connects a {@link LocalWorker} with {@code spec}'s name, slots and properties to {@code
   * scheduler}, running its assignments on this runtime, and keeps {@code warmWorkers} told which
   * persistent-worker processes are idle, so the scheduler can route to warm ones. Once per
   * runtime.
   *
   * @param warmWorkers the scheduler's record of warm processes, or null if it routes on none
   * @return the connected worker; the runtime closes it
   * @throws IllegalStateException if the runtime serves already or is closed
   * @throws build.hearth.api.HearthException as {@link Scheduler#connect} does
   */
  public LocalWorker serve(
      WorkerSpec spec, Scheduler<ExecutionTask, ActionOutcome> scheduler, WarmWorkers warmWorkers) {
    LocalWorker.Builder builder = LocalWorker.newBuilder().spec(spec).runner(this);
    if (warmWorkers != null) {
      builder.warmWorkers(warmWorkers);
    }
    LocalWorker started = builder.build();
    synchronized (lock) {
      if (closed || worker != null) {
        started.close();
        throw new IllegalStateException(
            closed ? "the worker runtime is closed" : "the worker runtime serves already");
      }
      worker = started;
    }
    runner.onWarmProcessesChanged(started::reportWarmProcesses);
    started.connect(scheduler);
    return started;
  }

  /** {@return what the runner's sandbox does on this machine, as found when it was built} */
  public SandboxCapabilities sandboxCapabilities() {
    return runner.sandboxCapabilities();
  }

  /**
   * {@return {@code configured} with the platform property {@code network} this worker offers added
   * (see {@link #networkValues}): what it announces to its scheduler} The configuration never names
   * {@code network}, which follows from the sandbox.
   *
   * @param configured the properties the worker's configuration offers, by name
   */
  public Map<String, List<String>> offeredProperties(
      Map<String, ? extends Collection<String>> configured) {
    Map<String, List<String>> offered = new LinkedHashMap<>();
    configured.forEach((name, values) -> offered.put(name, List.copyOf(values)));
    if (!network.isEmpty()) {
      offered.put(SandboxProperties.NETWORK, network);
    }
    return offered;
  }

  /** {@return the persistent-worker pool's statistics; empty when persistent workers are off} */
  public Optional<PoolStats> persistentWorkerStats() {
    return runner.persistentWorkerStats();
  }

  /**
   * Tells {@code listener} the idle persistent-worker processes by client key whenever they change;
   * see {@link LocalActionRunner#onWarmProcessesChanged}. {@link #serve} wires its worker this way;
   * {@code hearth worker} forwards the same reports over the wire.
   */
  public void onWarmProcessesChanged(Consumer<Map<String, Integer>> listener) {
    runner.onWarmProcessesChanged(listener);
  }

  @Override
  public void close() {
    LocalWorker serving;
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
      serving = worker;
    }
    try {
      if (serving != null) {
        serving.close();
      }
    } finally {
      try {
        runner.close();
      } finally {
        if (ownedCache != null) {
          ownedCache.close();
        }
      }
    }
  }

  /** Builds a {@link WorkerRuntime}. Not thread-safe; each setter returns the builder. */
  public static final class Builder {
    private final String name;
    private Path workDirectory;
    private BlobStore sharedCache;
    private StoreProviderRegistry cacheProviders;
    private String cacheSettingsPath;
    private Path cachePath;
    private long cacheMaxSizeBytes;
    private Function<String, ContentAddressableStorage> cas;
    private PersistentWorkersConfig persistentWorkers;
    private SandboxConfig sandbox = SandboxConfig.OFF;
    private Clock clock = Clock.systemUTC();
    private long maxDirectoryBytes = DirectoryBlobs.DEFAULT_MAX_DIRECTORY_BYTES;

    private Builder(String name) {
      this.name = Objects.requireNonNull(name, "name");
    }

    /** Where exec roots and persistent-worker directories live; required. */
    public Builder workDirectory(Path workDirectory) {
      this.workDirectory = Objects.requireNonNull(workDirectory, "workDirectory");
      return this;
    }

    /**
     * Opens a {@code filesystem} store at {@code path} as the local cache, owned and closed by the
     * runtime. This or {@link #sharedCache} is required.
     *
     * @param registry where the {@code filesystem} provider comes from
     * @param settingsPath where the cache's settings are in the configuration, for errors, such as
     *     {@code workers.w1.cache}
     * @param path the cache's directory
     * @param maxSizeBytes the most bytes the cache keeps
     */
    public Builder cache(
        StoreProviderRegistry registry, String settingsPath, Path path, long maxSizeBytes) {
      this.cacheProviders = Objects.requireNonNull(registry, "registry");
      this.cacheSettingsPath = Objects.requireNonNull(settingsPath, "settingsPath");
      this.cachePath = Objects.requireNonNull(path, "path");
      this.cacheMaxSizeBytes = maxSizeBytes;
      this.sharedCache = null;
      return this;
    }

    /**
     * Hard-links inputs from {@code store}, which keeps its blobs in files and belongs to the
     * caller (the runtime never closes it). This or {@link #cache} is required.
     */
    public Builder sharedCache(BlobStore store) {
      this.sharedCache = Objects.requireNonNull(store, "store");
      this.cacheProviders = null;
      return this;
    }

    /** Where each instance's inputs come from and outputs go to; required. */
    public Builder cas(Function<String, ContentAddressableStorage> casForInstance) {
      this.cas = Objects.requireNonNull(casForInstance, "casForInstance");
      return this;
    }

    /** The persistent-worker settings; the runner's defaults if never set. */
    public Builder persistentWorkers(PersistentWorkersConfig persistentWorkers) {
      this.persistentWorkers = Objects.requireNonNull(persistentWorkers, "persistentWorkers");
      return this;
    }

    /**
     * How the runner confines the processes it starts; {@link SandboxConfig#OFF} if never set.
     * {@link #build()} probes what this machine allows, and fails as {@link
     * LocalActionRunner.Builder#build()} does when a required part is refused.
     */
    public Builder sandbox(SandboxConfig sandbox) {
      this.sandbox = Objects.requireNonNull(sandbox, "sandbox");
      return this;
    }

    /**
     * The largest Directory blob of an input tree read whole; 16 MiB if never set.
     *
     * @throws IllegalArgumentException if it is below 1 KiB or above 2 GiB
     */
    public Builder maxDirectoryBytes(long max) {
      DirectoryBlobs.forDirectories(max); // refuses a bound out of range here, not at first use
      this.maxDirectoryBytes = max;
      return this;
    }

    /** The clock of the cache and the runner; the system's if never set. */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Opens the cache (if the runtime owns one) and starts the runner.
     *
     * @throws IllegalStateException if a required setting is missing
     * @throws build.hearth.api.ConfigException if the cache cannot be opened
     * @throws build.hearth.api.HearthException FAILED_PRECONDITION if the sandbox is required and
     *     the machine refuses part of it; the message names each part and how to fix it
     */
    public WorkerRuntime build() {
      if (workDirectory == null || cas == null || (sharedCache == null && cachePath == null)) {
        throw new IllegalStateException(
            "a worker runtime needs a work directory, a cache and a CAS for its instances");
      }
      BlobStore ownedCache = sharedCache == null ? openCache() : null;
      try {
        LocalActionRunner.Builder runner =
            LocalActionRunner.newBuilder()
                .workerName(name)
                .workDirectory(workDirectory)
                .localCache(sharedCache == null ? ownedCache : sharedCache)
                .cas(cas)
                .clock(clock)
                .sandbox(sandbox)
                .maxDirectoryBytes(maxDirectoryBytes);
        if (persistentWorkers != null) {
          runner.persistentWorkers(persistentWorkers);
        }
        LocalActionRunner built = runner.build();
        SandboxCapabilities capabilities = built.sandboxCapabilities();
        List<String> network = networkValues(sandbox, capabilities);
        // The sandbox has logged what it does; what the worker offers for it is the runtime's.
        log.info(
            "Worker '{}' offers network={} to the scheduler",
            name,
            network.isEmpty() ? "(none)" : String.join(",", network));
        return new WorkerRuntime(ownedCache, built, network);
      } catch (RuntimeException e) {
        if (ownedCache != null) {
          ownedCache.close();
        }
        throw e;
      }
    }

    private BlobStore openCache() {
      StoreSettings settings =
          StoreSettings.of(
              cacheSettingsPath,
              Map.of("path", cachePath.toString(), "maxSize", cacheMaxSizeBytes));
      return cacheProviders.createBlobStore(
          "filesystem",
          cacheSettingsPath + ".type",
          0,
          StoreContext.newBuilder(name + "-cache", settings).clock(clock).build());
    }
  }
}
