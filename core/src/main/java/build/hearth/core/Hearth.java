package build.hearth.core;

import build.hearth.api.ActionCache;
import build.hearth.api.ContentAddressableStorage;
import build.hearth.api.ExecutionService;
import build.hearth.api.PoolStats;
import build.hearth.core.config.PersistentWorkersConfig;
import build.hearth.spi.storage.ActionCacheStore;
import build.hearth.spi.storage.BlobStore;
import build.hearth.spi.storage.StoreContext;
import build.hearth.spi.storage.StoreProviderRegistry;
import build.hearth.spi.storage.StoreSettings;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Hearth embedded in a Java process, with no server: a content-addressable store, an action cache
 * and, with {@link Builder#localExecution}, a scheduler and a local worker that runs actions in
 * this process (as fresh processes or, when an action's platform carries {@code
 * persistentWorkerKey}, on warm persistent worker processes; see {@code
 * docs/persistent-workers.md}). No gRPC is involved.
 *
 * <pre>{@code
 * try (Hearth hearth = Hearth.newBuilder()
 *     .filesystemBlobStore(Path.of("/var/cache/my-build/cas"), 20L << 30)
 *     .filesystemActionCache(Path.of("/var/cache/my-build/ac"), 1L << 30)
 *     .localExecution(Path.of("/var/cache/my-build/exec"))
 *     .build()) {
 *   ContentAddressableStorage cas = hearth.cas();
 *   Digest inputs = cas.putDirectory(Path.of("src"));
 *   Digest command = cas.putMessage(Command.newBuilder().addArguments("ls").build());
 *   Digest action = cas.putMessage(Action.newBuilder()
 *       .setCommandDigest(command.toProto())
 *       .setInputRootDigest(inputs.toProto())
 *       .build());
 *   ActionResult result = hearth.execution().execute(action).result().join().getResult();
 *   System.out.print(cas.get(result.getStdoutDigest()).toStringUtf8());
 * }
 * }</pre>
 *
 * <p>Thread-safe: share one instance between threads. Two instances in one JVM are independent, but
 * a filesystem store's directory and the execution directory belong to one instance at a time (each
 * is locked while open). {@link #close()} ends running actions and the worker's processes and
 * closes the stores; afterwards every call throws {@link IllegalStateException} naming the
 * instance.
 */
public final class Hearth implements AutoCloseable {
  private final Lifecycle lifecycle;
  private final BlobStore blobStore;
  private final ActionCacheStore actionCacheStore;
  private final ContentAddressableStorage engineCas;
  private final ActionCache engineActionCache;
  private final ContentAddressableStorage cas;
  private final ActionCache actionCache;
  private LocalExecution execution;
  private ExecutionService executionService;

  private Hearth(String name, BlobStore blobStore, ActionCacheStore actionCacheStore) {
    this.lifecycle = new Lifecycle(name);
    this.blobStore = blobStore;
    this.actionCacheStore = actionCacheStore;
    // The engine keeps the unguarded views: actions that finish while the instance closes end with
    // the stores' own errors, not with the embedder's IllegalStateException.
    this.engineCas = Storage.cas(blobStore);
    this.engineActionCache = Storage.actionCache(actionCacheStore, engineCas);
    this.cas = new GuardedCas(engineCas, lifecycle);
    this.actionCache = new GuardedActionCache(engineActionCache, lifecycle);
  }

  /**
   * Starts building an instance; nothing is opened until {@link Builder#build()}.
   *
   * @return a builder with both stores {@code memory} stores and no local execution
   */
  public static Builder newBuilder() {
    return new Builder();
  }

  /**
   * The verifying content-addressable store, with one-call helpers for inputs ({@link
   * ContentAddressableStorage#putDirectory}, {@link ContentAddressableStorage#putTree}, {@link
   * ContentAddressableStorage#putMessage}).
   *
   * @return the CAS; the same object on every call
   * @throws IllegalStateException once the instance is closed (as is every method of the CAS)
   */
  public ContentAddressableStorage cas() {
    return cas;
  }

  /**
   * The action cache, whose results are checked against {@link #cas()}.
   *
   * @return the action cache; the same object on every call
   * @throws IllegalStateException once the instance is closed (as is every method of it)
   */
  public ActionCache actionCache() {
    return actionCache;
  }

  /**
   * The execution service of the in-process scheduler and worker.
   *
   * @return the execution service; the same object on every call
   * @throws IllegalStateException if the builder was not given {@link Builder#localExecution}, or
   *     the instance is closed
   */
  public ExecutionService execution() {
    lifecycle.checkOpen();
    if (execution == null) {
      throw new IllegalStateException(
          "Hearth instance '"
              + lifecycle.name()
              + "' does not execute actions; build it with localExecution(workDirectory)");
    }
    return executionService;
  }

  /**
   * The statistics of the local worker's persistent-worker pool; empty without {@link
   * Builder#localExecution} or with persistent workers disabled.
   *
   * @return a snapshot taken now
   * @throws IllegalStateException once the instance is closed
   */
  public Optional<PoolStats> persistentWorkerStats() {
    lifecycle.checkOpen();
    return execution == null ? Optional.empty() : execution.persistentWorkerStats();
  }

  /** {@return the name given to {@link Builder#name}, which error messages use} */
  public String name() {
    return lifecycle.name();
  }

  /** {@return {@code Hearth 'name'}} */
  @Override
  public String toString() {
    return "Hearth '" + lifecycle.name() + "'";
  }

  /**
   * Stops the instance and releases everything it holds; a second call does nothing.
   *
   * <p>In order: the scheduler stops, so every action still queued or running completes its {@link
   * build.hearth.api.Execution#result()} with status UNAVAILABLE ("the scheduler shut down before
   * action ... completed") and every running command is killed; then the local worker ends its
   * persistent worker processes (each gets its shutdown grace) and removes its exec roots; then the
   * stores close and release their directories' locks, so another instance may open them. Close
   * does not wait for running actions to finish: to let them finish, join their results first.
   *
   * <p>Afterwards every method of this instance and of the objects it returned ({@link #cas()},
   * {@link #actionCache()}, {@link #execution()}, uploads in progress) throws {@link
   * IllegalStateException} naming the instance, except {@link #name()}, {@link #toString()} and
   * {@code close()} itself.
   */
  @Override
  public void close() {
    if (!lifecycle.close()) {
      return;
    }
    try {
      if (execution != null) {
        execution.close();
      }
    } finally {
      closeStores();
    }
  }

  private void closeStores() {
    try {
      actionCacheStore.close();
    } finally {
      blobStore.close();
    }
  }

  /**
   * Builds a {@link Hearth}. By default both stores are {@code memory} stores of the built-in
   * sizes, and providers are discovered from the builder's class loader.
   */
  public static final class Builder {
    private static final long DEFAULT_LOCAL_CACHE_BYTES = 10L << 30;

    private StoreProviderRegistry registry;
    private Clock clock = Clock.systemUTC();
    private String blobType = "memory";
    private Map<String, ?> blobSettings = Map.of();
    private String actionCacheType = "memory";
    private Map<String, ?> actionCacheSettings = Map.of();
    private Path executionDirectory;
    private int workerSlots = Runtime.getRuntime().availableProcessors();
    private PersistentWorkersConfig persistentWorkers;
    private String name = "hearth";
    private long localCacheBytes = DEFAULT_LOCAL_CACHE_BYTES;

    private Builder() {}

    /**
     * The instance's name, which its error messages use (such as the one every call gets after
     * {@link Hearth#close()}); {@code "hearth"} by default. Give two instances in one JVM different
     * names to tell their messages apart.
     *
     * @param name any non-blank text
     * @return this builder
     * @throws IllegalArgumentException if {@code name} is blank
     */
    public Builder name(String name) {
      if (name.isBlank()) {
        throw new IllegalArgumentException("the name of a Hearth instance must not be blank");
      }
      this.name = name;
      return this;
    }

    /**
     * Runs actions in this process, on one local worker whose exec roots, blob cache and persistent
     * worker processes live under {@code workDirectory} (created if missing; it belongs to this
     * instance). Actions may name any platform property; none is matched.
     *
     * <p>The directory is locked ({@code exec.lock}) while the instance is open: a second instance
     * over it, in this JVM or another process, fails to build with a {@link
     * build.hearth.api.ConfigException} on {@code localExecution} that names the holder.
     *
     * @param workDirectory the worker's directory
     * @return this builder
     */
    public Builder localExecution(Path workDirectory) {
      this.executionDirectory = Objects.requireNonNull(workDirectory, "workDirectory");
      return this;
    }

    /**
     * How many actions the local worker runs at once; the number of processors by default. Only
     * matters with {@link #localExecution}: an instance that only stores has no worker, so leave
     * out {@code localExecution} rather than asking for 0 slots.
     *
     * @param slots at least 1
     * @return this builder
     * @throws IllegalArgumentException if {@code slots} is less than 1
     */
    public Builder workerSlots(int slots) {
      if (slots < 1) {
        throw new IllegalArgumentException(
            "workerSlots must be at least 1, but is "
                + slots
                + "; to store blobs without running actions, leave out localExecution(...)");
      }
      this.workerSlots = slots;
      return this;
    }

    /**
     * The most bytes of the local worker's own blob cache, used only when the blob store does not
     * keep its blobs in files the worker can link to (see {@link
     * build.hearth.spi.storage.LocalBlobFiles}): the worker then copies each input it needs into
     * this cache under {@code workDirectory/cache}. 10 GiB by default. The built-in {@code
     * filesystem} store needs no such cache; a {@code memory} store does.
     *
     * @param bytes at least 1
     * @return this builder
     * @throws IllegalArgumentException if {@code bytes} is less than 1
     */
    public Builder localExecutionCacheSize(long bytes) {
      if (bytes < 1) {
        throw new IllegalArgumentException(
            "localExecutionCacheSize must be at least 1 byte, but is " + bytes);
      }
      this.localCacheBytes = bytes;
      return this;
    }

    /**
     * The local worker's persistent-worker settings; {@link PersistentWorkersConfig#defaults
     * defaults(workerSlots)} by default. Build them with {@link
     * PersistentWorkersConfig#newBuilder()}; to read them from a JSON file instead, use {@code
     * WorkerConfig.parseStandalone(json, name).persistentWorkers()}.
     *
     * @param config the settings
     * @return this builder
     */
    public Builder persistentWorkers(PersistentWorkersConfig config) {
      this.persistentWorkers = Objects.requireNonNull(config, "config");
      return this;
    }

    /**
     * The providers to choose from; by default those {@link java.util.ServiceLoader} finds on the
     * class path of {@code Hearth}'s class loader.
     *
     * @param registry the providers
     * @return this builder
     */
    public Builder storeProviders(StoreProviderRegistry registry) {
      this.registry = Objects.requireNonNull(registry, "registry");
      return this;
    }

    /**
     * The clock stores and the scheduler use; the system clock by default, a fake one in tests.
     *
     * @param clock the clock
     * @return this builder
     */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Keeps blobs in memory, evicting the least recently used beyond {@code maxSizeBytes}; the
     * default, at the {@code memory} store's default size.
     *
     * @param maxSizeBytes the most bytes held, at least 1
     * @return this builder
     */
    public Builder memoryBlobStore(long maxSizeBytes) {
      return blobStore("memory", Map.of("maxSize", positive("maxSizeBytes", maxSizeBytes)));
    }

    /**
     * Keeps blobs in files under {@code directory}, which persist across instances; the directory
     * is locked while this instance is open.
     *
     * @param directory created if missing
     * @param maxSizeBytes the most bytes held, at least 1
     * @return this builder
     */
    public Builder filesystemBlobStore(Path directory, long maxSizeBytes) {
      return blobStore(
          "filesystem",
          Map.of("path", directory.toString(), "maxSize", positive("maxSizeBytes", maxSizeBytes)));
    }

    /**
     * Keeps action-cache entries in memory, evicting the least recently used beyond {@code
     * maxSizeBytes}; the default, at the {@code memory} store's default size.
     *
     * @param maxSizeBytes the most bytes held, at least 1
     * @return this builder
     */
    public Builder memoryActionCache(long maxSizeBytes) {
      return actionCacheStore("memory", Map.of("maxSize", positive("maxSizeBytes", maxSizeBytes)));
    }

    /**
     * Keeps action-cache entries in files under {@code directory} (may be the blob store's own
     * directory), which persist across instances; locked while this instance is open.
     *
     * @param directory created if missing
     * @param maxSizeBytes the most bytes held, at least 1
     * @return this builder
     */
    public Builder filesystemActionCache(Path directory, long maxSizeBytes) {
      return actionCacheStore(
          "filesystem",
          Map.of("path", directory.toString(), "maxSize", positive("maxSizeBytes", maxSizeBytes)));
    }

    /**
     * The blob store: any provider's type and its settings, as a configuration file's store object
     * would give them ({@code docs/configuration.md}). Whole numbers may be of any integral type
     * ({@code Map.of("maxSize", 1048576)}); sizes may also be strings such as {@code "512MiB"}.
     * Prefer {@link #filesystemBlobStore} or {@link #memoryBlobStore} for the built-in stores.
     *
     * @param type the provider's type name, such as {@code "filesystem"}
     * @param settings the store's settings; copied
     * @return this builder
     */
    public Builder blobStore(String type, Map<String, ?> settings) {
      this.blobType = Objects.requireNonNull(type, "type");
      this.blobSettings = Map.copyOf(settings);
      return this;
    }

    /**
     * The action-cache store: any provider's type and its settings, as {@link #blobStore} takes
     * them.
     *
     * @param type the provider's type name, such as {@code "filesystem"}
     * @param settings the store's settings; copied
     * @return this builder
     */
    public Builder actionCacheStore(String type, Map<String, ?> settings) {
      this.actionCacheType = Objects.requireNonNull(type, "type");
      this.actionCacheSettings = Map.copyOf(settings);
      return this;
    }

    private static long positive(String name, long value) {
      if (value < 1) {
        throw new IllegalArgumentException(name + " must be at least 1, but is " + value);
      }
      return value;
    }

    /**
     * Opens the stores. Nothing is left open when it fails.
     *
     * @return the open instance; close it after its last use
     * @throws build.hearth.api.ConfigException if a type is unknown, a setting is bad, or a
     *     directory belongs to another instance
     */
    public Hearth build() {
      StoreProviderRegistry providers =
          registry != null
              ? registry
              : StoreProviderRegistry.discover(Hearth.class.getClassLoader());
      StoreContext blobContext =
          StoreContext.newBuilder("blobStore", StoreSettings.of("blobStore", blobSettings))
              .clock(clock)
              .build();
      BlobStore blobs = providers.createBlobStore(blobType, "blobStore.type", 0, blobContext);
      try {
        StoreContext acContext =
            StoreContext.newBuilder(
                    "actionCacheStore", StoreSettings.of("actionCacheStore", actionCacheSettings))
                .clock(clock)
                .build();
        ActionCacheStore ac =
            providers.createActionCacheStore(
                actionCacheType, "actionCacheStore.type", 0, acContext);
        Hearth hearth = new Hearth(name, blobs, ac);
        if (executionDirectory != null) {
          try {
            hearth.execution =
                LocalExecution.start(
                    executionDirectory,
                    workerSlots,
                    persistentWorkers != null
                        ? persistentWorkers
                        : PersistentWorkersConfig.defaults(workerSlots),
                    localCacheBytes,
                    blobs,
                    hearth.engineCas,
                    hearth.engineActionCache,
                    providers,
                    clock);
            hearth.executionService =
                new GuardedExecutionService(hearth.execution.service(), hearth.lifecycle);
          } catch (RuntimeException e) {
            ac.close();
            throw e;
          }
        }
        return hearth;
      } catch (RuntimeException e) {
        blobs.close();
        throw e;
      }
    }
  }
}
