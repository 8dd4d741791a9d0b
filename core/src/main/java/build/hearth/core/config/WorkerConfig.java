package build.hearth.core.config;

import build.hearth.api.ConfigException;
import build.hearth.core.scheduler.PlatformLexicon;
import build.hearth.spi.worker.WorkerSpec;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * One worker: its name, how many actions it runs at once, the platform properties it offers, and
 * the directories where it builds exec roots and caches input blobs.
 *
 * <p>It comes from one of two places. An entry of the {@code workers} list of a {@link
 * HearthConfig} is a worker inside the server process; it names its {@link #scheduler()} and the
 * {@link #instance()} whose CAS it reads inputs from and writes outputs to. A standalone worker
 * process ({@code hearth worker --scheduler-endpoint ... --config worker.json}) reads one worker
 * object with {@link #loadStandalone(Path)}; its scheduler and instance come from the command line,
 * so there both are empty, and every field of the file is optional.
 *
 * <p>Built only by the readers, which have checked that the name is usable in a directory name,
 * that there is at least one slot, that every property has at least one value, and, for the workers
 * of a {@link HearthConfig}, that the scheduler and instance exist, that the property values suit
 * the scheduler's property types and that no two workers share a directory. Paths have {@code ~}
 * expanded but are otherwise as written: a relative path is relative to the directory the process
 * was started in. Immutable and thread-safe.
 */
public final class WorkerConfig {
  /** The size of the worker's blob cache when the file does not say: 10 GiB. */
  public static final long DEFAULT_CACHE_MAX_SIZE_BYTES = 10L << 30;

  /** The smallest allowed cache size: 1 MiB. */
  public static final long MIN_CACHE_MAX_SIZE_BYTES = 1L << 20;

  /**
   * The largest message a standalone worker accepts from the server when the file does not say: 40
   * MiB, above the server's default {@code workerApi.maxAssignmentSize} of 33 MiB.
   */
  public static final long DEFAULT_MAX_MESSAGE_BYTES = 40L << 20;

  /** The smallest {@code maxMessageSize}: 4 MiB, gRPC's default. */
  public static final long MIN_MAX_MESSAGE_BYTES = 4L << 20;

  private final String name;
  private final String scheduler;
  private final String instance;
  private final int slots;
  private final Map<String, List<String>> properties;
  private final Path workDirectory;
  private final Path cachePath;
  private final long cacheMaxSizeBytes;
  private final PersistentWorkersConfig persistentWorkers;
  private final ClientCredentialsConfig credentials;
  private final SandboxConfig sandbox;
  private final int maxMessageBytes;
  private final long maxDirectoryBytes;

  WorkerConfig(
      String name,
      String scheduler,
      String instance,
      int slots,
      Map<String, List<String>> properties,
      Path workDirectory,
      Path cachePath,
      long cacheMaxSizeBytes,
      PersistentWorkersConfig persistentWorkers) {
    this(
        name,
        scheduler,
        instance,
        slots,
        properties,
        workDirectory,
        cachePath,
        cacheMaxSizeBytes,
        persistentWorkers,
        ClientCredentialsConfig.NONE,
        SandboxConfig.DEFAULT,
        (int) DEFAULT_MAX_MESSAGE_BYTES,
        InstanceConfig.DEFAULT_MAX_DIRECTORY_BYTES);
  }

  WorkerConfig(
      String name,
      String scheduler,
      String instance,
      int slots,
      Map<String, List<String>> properties,
      Path workDirectory,
      Path cachePath,
      long cacheMaxSizeBytes,
      PersistentWorkersConfig persistentWorkers,
      ClientCredentialsConfig credentials,
      SandboxConfig sandbox,
      int maxMessageBytes,
      long maxDirectoryBytes) {
    this.maxMessageBytes = maxMessageBytes;
    this.maxDirectoryBytes = maxDirectoryBytes;
    this.name = Objects.requireNonNull(name, "name");
    this.scheduler = scheduler;
    this.instance = instance;
    this.slots = slots;
    Map<String, List<String>> copy = new LinkedHashMap<>();
    properties.forEach((key, values) -> copy.put(key, List.copyOf(values)));
    this.properties = Collections.unmodifiableMap(copy);
    this.workDirectory = Objects.requireNonNull(workDirectory, "workDirectory");
    this.cachePath = Objects.requireNonNull(cachePath, "cachePath");
    this.cacheMaxSizeBytes = cacheMaxSizeBytes;
    this.persistentWorkers = Objects.requireNonNull(persistentWorkers, "persistentWorkers");
    this.credentials = Objects.requireNonNull(credentials, "credentials");
    this.sandbox = Objects.requireNonNull(sandbox, "sandbox");
  }

  /**
   * Reads a standalone worker's file (UTF-8): one worker object, every field optional.
   *
   * @param file the worker's configuration file
   * @return the worker
   * @throws ConfigException if the file is missing, unreadable, not JSON, or not a valid worker;
   *     the message names the file or the offending field
   */
  public static WorkerConfig loadStandalone(Path file) {
    Objects.requireNonNull(file, "file");
    String text = HearthConfig.readFile(file);
    return WorkerBinder.standalone(
        JsonTreeReader.read(text, file.toString(), WorkerBinder.EMPTY_HINT),
        WorkerBinder::hostName,
        file.toAbsolutePath().getParent());
  }

  /**
   * Reads a standalone worker's configuration from text, such as {@code {"slots": 8}}. A missing
   * {@code name} becomes the host name, a dash and the process id, which asks the system for its
   * host name (and may consult the resolver).
   *
   * @param json the worker object's text
   * @param sourceName what to call the text in syntax errors, usually its file name
   * @return the worker
   * @throws ConfigException if the text is not JSON or not a valid worker, including when it sets
   *     {@code scheduler} or {@code instance}, which a standalone worker takes from its command
   *     line
   */
  public static WorkerConfig parseStandalone(String json, String sourceName) {
    Objects.requireNonNull(json, "json");
    Objects.requireNonNull(sourceName, "sourceName");
    return WorkerBinder.standalone(
        JsonTreeReader.read(json, sourceName, WorkerBinder.EMPTY_HINT),
        WorkerBinder::hostName,
        null);
  }

  /**
   * {@return how a standalone worker authenticates to its scheduler (its file's {@code tls} and
   * {@code tokenFile}); nothing for the workers of a server's file, which need no connection}
   */
  public ClientCredentialsConfig credentials() {
    return credentials;
  }

  /** {@return the worker's name, for logs, metrics and {@code ExecutedActionMetadata.worker}} */
  public String name() {
    return name;
  }

  /**
   * {@return the name of the {@link HearthConfig#schedulers() scheduler} whose actions the worker
   * runs; empty for a standalone worker, which is given a scheduler endpoint instead}
   */
  public Optional<String> scheduler() {
    return Optional.ofNullable(scheduler);
  }

  /**
   * {@return the REAPI instance name whose CAS the worker reads inputs from and writes outputs to
   * ({@code ""} unless the file says otherwise); empty for a standalone worker, which is given it
   * on the command line}
   */
  public Optional<String> instance() {
    return Optional.ofNullable(instance);
  }

  /** {@return how many actions the worker runs at once; at least 1} */
  public int slots() {
    return slots;
  }

  /**
   * {@return the platform properties the worker offers, by name in the file's order; each has at
   * least one value, without duplicates} A single string in the file is a list of one value here.
   */
  public Map<String, List<String>> properties() {
    return properties;
  }

  /**
   * {@return what the worker offers its scheduler: {@link #properties()}, plus the values of the
   * REAPI platform lexicon's {@code OSFamily} and {@code ISA} detected from this machine (such as
   * {@code linux} and {@code x86-64}) for those of the two that the file leaves out} A property the
   * file names keeps exactly the file's values.
   */
  public Map<String, List<String>> offeredProperties() {
    return PlatformLexicon.withDetected(properties);
  }

  /** {@return the directory under which the worker creates one exec root per running action} */
  public Path workDirectory() {
    return workDirectory;
  }

  /**
   * {@return the directory of the worker's local blob cache, from which exec roots are hard-linked;
   * it must be on the same file system as {@link #workDirectory()} for links to work}
   */
  public Path cachePath() {
    return cachePath;
  }

  /**
   * {@return the most bytes the local blob cache keeps before evicting the least recently used
   * blobs}
   */
  public long cacheMaxSizeBytes() {
    return cacheMaxSizeBytes;
  }

  /** {@return how the worker runs persistent-worker actions: its pool's limits and its tools} */
  public PersistentWorkersConfig persistentWorkers() {
    return persistentWorkers;
  }

  /**
   * {@return the largest message a standalone worker accepts from the server, in bytes; it tells
   * the server at registration, and the server sends it no larger assignment} Unused by a server's
   * in-process workers.
   */
  public int maxMessageBytes() {
    return maxMessageBytes;
  }

  /**
   * {@return the largest Directory blob of an input tree this worker reads whole ({@code
   * maxDirectorySize}); an action whose tree holds a larger one fails with INVALID_ARGUMENT before
   * it is fetched}
   */
  public long maxDirectoryBytes() {
    return maxDirectoryBytes;
  }

  /**
   * {@return how the worker confines the processes it starts, actions' and persistent tools' alike;
   * {@link SandboxConfig#DEFAULT} (optional: whatever the kernel allows) unless the file says
   * otherwise} The worker offers the platform property {@code network} from it and from what the
   * kernel allowed at start, so it is not among {@link #offeredProperties()}.
   */
  public SandboxConfig sandbox() {
    return sandbox;
  }

  /**
   * {@return the worker's name, {@linkplain #offeredProperties() offered properties} and slots}
   * What a running worker announces adds the {@code network} its sandbox gives actions, known only
   * once its runtime has started ({@code WorkerRuntime.offeredProperties}).
   */
  public WorkerSpec workerSpec() {
    return WorkerSpec.builder(name).slots(slots).properties(offeredProperties()).build();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof WorkerConfig that
        && name.equals(that.name)
        && Objects.equals(scheduler, that.scheduler)
        && Objects.equals(instance, that.instance)
        && slots == that.slots
        && properties.equals(that.properties)
        && workDirectory.equals(that.workDirectory)
        && cachePath.equals(that.cachePath)
        && cacheMaxSizeBytes == that.cacheMaxSizeBytes
        && persistentWorkers.equals(that.persistentWorkers)
        && credentials.equals(that.credentials)
        && sandbox.equals(that.sandbox)
        && maxMessageBytes == that.maxMessageBytes
        && maxDirectoryBytes == that.maxDirectoryBytes;
  }

  @Override
  public int hashCode() {
    return Objects.hash(
        name,
        scheduler,
        instance,
        slots,
        properties,
        workDirectory,
        cachePath,
        cacheMaxSizeBytes,
        persistentWorkers,
        sandbox,
        maxMessageBytes,
        maxDirectoryBytes);
  }

  @Override
  public String toString() {
    return "WorkerConfig{name="
        + name
        + (scheduler == null ? "" : ", scheduler=" + scheduler)
        + (instance == null ? "" : ", instance=" + ConfigPaths.quote(instance))
        + ", slots="
        + slots
        + ", properties="
        + properties
        + ", workDirectory="
        + workDirectory
        + ", cache="
        + cachePath
        + ", cacheMaxSizeBytes="
        + cacheMaxSizeBytes
        + ", sandbox="
        + sandbox.mode()
        + "}";
  }
}
