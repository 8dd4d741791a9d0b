package build.hearth.core.config;

import build.hearth.api.ConfigException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A whole Hearth configuration: the named blob stores and action-cache stores, the schedulers that
 * run actions, the servers that serve them, and the workers that run inside the server process.
 *
 * <p>Read it with {@link #load(Path)}, {@link #parse(String, String)} or {@link
 * #embeddedDefault()}. The text is JSON that may contain {@code //} and {@code /* *}{@code /}
 * comments and trailing commas. Reading is strict: unknown fields, values of the wrong type,
 * missing required fields, duplicate keys, invalid values and references to stores, schedulers or
 * instances that are not defined all throw a {@link ConfigException} whose {@link
 * ConfigException#path() path} and {@link ConfigException#line() line} point at the offending
 * field, for example:
 *
 * <pre>
 * servers[0].instances."".cas (line 12): no blob store named 'cass'; defined: cas
 * </pre>
 *
 * <p>A store's settings other than {@code type} belong to its provider and are checked when the
 * store is created (see {@link StoreConfig#settings()}).
 *
 * <p>Immutable and thread-safe; maps and lists keep the order of the file and cannot be modified.
 */
public final class HearthConfig {
  /** The name of the embedded default configuration, next to this class. */
  static final String DEFAULT_RESOURCE = "default-config.json";

  // A configuration is a few kilobytes; this only stops a wrong path from filling the heap.
  private static final long MAX_FILE_BYTES = 16L << 20;

  private final Map<String, StoreConfig> blobStores;
  private final Map<String, StoreConfig> actionCacheStores;
  private final Map<String, SchedulerConfig> schedulers;
  private final List<ServerConfig> servers;
  private final List<WorkerConfig> workers;
  private final int maxPersistentWorkerSeries;

  /**
   * How many worker/key/tool label sets the {@code persistent_worker_*} series report when the file
   * does not say ({@code metrics.maxPersistentWorkerSeries}): 500.
   */
  public static final int DEFAULT_MAX_PERSISTENT_WORKER_SERIES = 500;

  private final WebConfig web;

  HearthConfig(
      Map<String, StoreConfig> blobStores,
      Map<String, StoreConfig> actionCacheStores,
      Map<String, SchedulerConfig> schedulers,
      List<ServerConfig> servers,
      List<WorkerConfig> workers) {
    this(
        blobStores,
        actionCacheStores,
        schedulers,
        servers,
        workers,
        DEFAULT_MAX_PERSISTENT_WORKER_SERIES,
        WebConfig.DEFAULTS);
  }

  HearthConfig(
      Map<String, StoreConfig> blobStores,
      Map<String, StoreConfig> actionCacheStores,
      Map<String, SchedulerConfig> schedulers,
      List<ServerConfig> servers,
      List<WorkerConfig> workers,
      int maxPersistentWorkerSeries,
      WebConfig web) {
    this.maxPersistentWorkerSeries = maxPersistentWorkerSeries;
    this.web = Objects.requireNonNull(web, "web");
    this.blobStores = Collections.unmodifiableMap(new LinkedHashMap<>(blobStores));
    this.actionCacheStores = Collections.unmodifiableMap(new LinkedHashMap<>(actionCacheStores));
    this.schedulers = Collections.unmodifiableMap(new LinkedHashMap<>(schedulers));
    this.servers = List.copyOf(servers);
    this.workers = List.copyOf(workers);
  }

  /**
   * Reads a configuration file (UTF-8).
   *
   * @param file the configuration file
   * @return the configuration
   * @throws ConfigException if the file is missing, unreadable, not JSON, or not a valid
   *     configuration; the message names the file or the offending field
   */
  public static HearthConfig load(Path file) {
    Objects.requireNonNull(file, "file");
    String text = readFile(file);
    Path directory = file.toAbsolutePath().getParent();
    return ConfigBinder.bind(JsonTreeReader.read(text, file.toString()), directory);
  }

  /**
   * Reads a configuration from text. Relative paths of a server's {@code tls} block stay relative
   * to the working directory, since the text has no file; {@link #load} resolves them against the
   * file's directory.
   *
   * @param json the configuration's text
   * @param sourceName what to call the text in syntax errors, usually its file name
   * @return the configuration
   * @throws ConfigException if the text is not JSON or not a valid configuration
   */
  public static HearthConfig parse(String json, String sourceName) {
    Objects.requireNonNull(json, "json");
    Objects.requireNonNull(sourceName, "sourceName");
    return ConfigBinder.bind(JsonTreeReader.read(json, sourceName));
  }

  /**
   * {@return the configuration {@code hearth serve} uses when given no file: one server on {@code
   * 127.0.0.1:50052} whose default instance keeps its CAS and action cache on disk under {@code
   * ~/.cache/hearth} and executes actions through the scheduler {@code main}, on one worker inside
   * the process (with a slot per processor) and on any worker that connects to the server's port}
   * Each call reads it afresh.
   */
  public static HearthConfig embeddedDefault() {
    try (InputStream in = HearthConfig.class.getResourceAsStream(DEFAULT_RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(
            "hearth-core is missing its resource " + DEFAULT_RESOURCE + "; the jar is damaged");
      }
      return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), "the embedded default");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the embedded " + DEFAULT_RESOURCE, e);
    }
  }

  /** {@return the blob stores (CAS backends) by name, in the file's order} */
  public Map<String, StoreConfig> blobStores() {
    return blobStores;
  }

  /** {@return the action-cache stores by name, in the file's order} */
  public Map<String, StoreConfig> actionCacheStores() {
    return actionCacheStores;
  }

  /** {@return the schedulers by name, in the file's order} */
  public Map<String, SchedulerConfig> schedulers() {
    return schedulers;
  }

  /** {@return the servers, in the file's order; never empty} */
  public List<ServerConfig> servers() {
    return servers;
  }

  /**
   * {@return the workers that run inside the server process, in the file's order; each has a {@link
   * WorkerConfig#scheduler() scheduler} and an {@link WorkerConfig#instance() instance}}
   */
  public List<WorkerConfig> workers() {
    return workers;
  }

  /**
   * {@return how many worker/key/tool label sets the {@code persistent_worker_*} series of {@code
   * /metrics} report per scrape; the rest add up under "other"} Worker names, keys and tools come
   * from workers and clients, so without the bound their series would have none.
   */
  public int maxPersistentWorkerSeries() {
    return maxPersistentWorkerSeries;
  }

  /** Reads a configuration file as UTF-8 text, with errors that name the file. */
  /** {@return the web UI's settings: the {@code web} section, or its defaults} */
  public WebConfig web() {
    return web;
  }

  static String readFile(Path file) {
    byte[] bytes;
    try {
      if (Files.isDirectory(file)) {
        throw cannotRead(file, "it is a directory");
      }
      if (Files.size(file) > MAX_FILE_BYTES) {
        throw cannotRead(file, "it is larger than 16 MiB, which is too large for a configuration");
      }
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw cannotRead(file, "no such file");
    } catch (AccessDeniedException e) {
      throw cannotRead(file, "permission denied");
    } catch (IOException e) {
      throw cannotRead(file, e.toString());
    }
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes))
          .toString();
    } catch (CharacterCodingException e) {
      throw cannotRead(file, "it is not UTF-8 text");
    }
  }

  private static ConfigException cannotRead(Path file, String reason) {
    return new ConfigException(
        "", 0, "cannot read the configuration file " + file.toAbsolutePath() + ": " + reason);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof HearthConfig that
        && blobStores.equals(that.blobStores)
        && actionCacheStores.equals(that.actionCacheStores)
        && schedulers.equals(that.schedulers)
        && servers.equals(that.servers)
        && workers.equals(that.workers)
        && maxPersistentWorkerSeries == that.maxPersistentWorkerSeries
        && web.equals(that.web);
  }

  @Override
  public int hashCode() {
    return Objects.hash(
        blobStores,
        actionCacheStores,
        schedulers,
        servers,
        workers,
        maxPersistentWorkerSeries,
        web);
  }

  @Override
  public String toString() {
    return "HearthConfig{blobStores="
        + blobStores.values()
        + ", actionCacheStores="
        + actionCacheStores.values()
        + ", schedulers="
        + schedulers.values()
        + ", servers="
        + servers
        + ", workers="
        + workers
        + ", web="
        + web
        + "}";
  }
}
