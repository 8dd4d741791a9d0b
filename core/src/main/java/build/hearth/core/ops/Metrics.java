package build.hearth.core.ops;

import build.bazel.remote.execution.v2.ExecuteResponse;
import build.hearth.api.ActionCache;
import build.hearth.api.ContentAddressableStorage;
import build.hearth.api.Digest;
import build.hearth.core.execution.ExecutionListener;
import build.hearth.core.execution.ExecutionServices;
import build.hearth.core.scheduler.Scheduler;
import build.hearth.core.scheduler.SchedulerBuilder;
import build.hearth.core.scheduler.SchedulerListener;
import build.hearth.spi.security.Permission;
import build.hearth.spi.security.Refusal;
import build.hearth.spi.storage.ActionCacheStore;
import build.hearth.spi.storage.BlobStore;
import build.hearth.spi.transport.HttpRoutes;
import io.prometheus.metrics.config.EscapingScheme;
import io.prometheus.metrics.config.PrometheusProperties;
import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The Prometheus metrics of one server, served as {@code GET /metrics} in the text exposition
 * format 0.0.4.
 *
 * <p>Each instance owns its own registry (never the Prometheus library's default one), so two
 * servers in one JVM report separately. What other parts already count is read when {@code
 * /metrics} is requested: the stores' {@code stats()}, each scheduler's {@link Scheduler#stats()},
 * and the persistent-worker pools through {@link WorkerReports}. What only a caller sees is counted
 * by the decorators and listeners this class hands out. The server wires it like this:
 *
 * <pre>{@code
 * Metrics metrics = Metrics.newBuilder()
 *     .blobStores(blobStoresByName)
 *     .actionCacheStores(actionCacheStoresByName)
 *     .workerReports(reports)
 *     .build();
 * Scheduler<...> scheduler = Scheduler.newBuilder()
 *     .listener(metrics.schedulerListener("default"))
 *     .build();
 * metrics.registerScheduler("default", scheduler);
 * ContentAddressableStorage cas = metrics.cas("main", Storage.cas(blobStore));
 * ActionCache actionCache = metrics.actionCache("main", Storage.actionCache(acStore, cas));
 * ExecutionService executions = ExecutionServices.newBuilder()
 *     .cas(cas).actionCache(actionCache).scheduler(scheduler)
 *     .listener(metrics.executionListener("main"))
 *     .build();
 * transportRoutes = metrics.orElse(otherRoutes);
 * }</pre>
 *
 * <p>Thread-safe. Registering a name twice throws {@link IllegalArgumentException}. A source whose
 * statistics fail to be read is left out of that scrape and logged; the rest is still served.
 */
public final class Metrics implements HttpRoutes {
  /** The {@code Content-Type} of {@code /metrics}: the Prometheus text format, version 0.0.4. */
  public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  /** The path this serves. */
  public static final String PATH = "/metrics";

  /** The queue-wait buckets, in seconds: from a free worker at once to an hour-long backlog. */
  private static final double[] QUEUE_WAIT_BOUNDS = {
    0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600
  };

  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final PrometheusTextFormatWriter writer =
      PrometheusTextFormatWriter.builder().setIncludeCreatedTimestamps(false).build();
  private final ComponentCollector components;
  private final Counter casHits;
  private final Counter casMisses;
  private final Counter casBytesWritten;
  private final Counter casBytesRead;
  private final Counter actionCacheHits;
  private final Counter actionCacheMisses;
  private final Counter actions;
  private final Counter refusals;
  private final Counter limitRefusals;
  private final Histogram queueWait;

  private Metrics(Builder builder) {
    // Explicit properties: a prometheus.properties file or PROMETHEUS_* variables meant for some
    // other library in the JVM must not change Hearth's series.
    PrometheusProperties properties = PrometheusProperties.builder().build();
    components = new ComponentCollector(builder.blobStores, builder.actionCacheStores);
    registry.register(components);
    if (builder.workerReports != null) {
      registry.register(
          new PersistentWorkerCollector(builder.workerReports, builder.maxPersistentWorkerSeries));
    }
    casHits =
        counter(
            properties,
            "hearth_cas_hits",
            "Blob lookups (FindMissingBlobs per digest, reads) that found the blob.",
            "instance");
    casMisses =
        counter(
            properties,
            "hearth_cas_misses",
            "Blob lookups (FindMissingBlobs per digest, reads) that did not find the blob.",
            "instance");
    casBytesWritten =
        counter(
            properties,
            "hearth_cas_bytes_written",
            "Bytes of blobs written to the CAS, counted when a write succeeds.",
            "instance");
    casBytesRead =
        counter(properties, "hearth_cas_bytes_read", "Bytes read from the CAS.", "instance");
    actionCacheHits =
        counter(
            properties,
            "hearth_action_cache_hits",
            "Action cache lookups that found a usable result.",
            "instance");
    actionCacheMisses =
        counter(
            properties,
            "hearth_action_cache_misses",
            "Action cache lookups that found no usable result.",
            "instance");
    actions =
        counter(
            properties,
            "hearth_actions",
            "Executions by outcome: success, nonzero_exit, failed (could not run), cancelled,"
                + " timeout, or cached (answered from the action cache).",
            "instance",
            "outcome");
    refusals =
        counter(
            properties,
            "hearth_auth_refusals",
            "Calls refused by authentication or permission checks, by server, reason (no_credentials,"
                + " malformed_credentials, unknown_token, invalid_jwt, expired_jwt,"
                + " permission_denied, unknown_method) and the permission the call needed (none"
                + " when authentication failed first).",
            "server",
            "reason",
            "permission");
    limitRefusals =
        counter(
            properties,
            "hearth_limit_refusals",
            "Requests refused because a configured limit was reached, by server and limit (the"
                + " limit's name in the code, such as upload_sessions_per_client; see"
                + " docs/reliability.md for the list).",
            "server",
            "limit");
    queueWait =
        Histogram.builder(properties)
            .name("hearth_scheduler_queue_wait_seconds")
            .help("How long actions waited in the queue before a worker took them.")
            .labelNames("scheduler")
            .classicOnly()
            .classicUpperBounds(QUEUE_WAIT_BOUNDS)
            .withoutExemplars()
            .register(registry);
  }

  private Counter counter(
      PrometheusProperties properties, String name, String help, String... labelNames) {
    return Counter.builder(properties)
        .name(name)
        .help(help)
        .labelNames(labelNames)
        .withoutExemplars()
        .register(registry);
  }

  /** A builder; every setting is optional. */
  public static Builder newBuilder() {
    return new Builder();
  }

  /**
   * Counts the lookups and bytes of {@code cas} under {@code instance}: the CAS to hand to the
   * transport, the execution service and in-process workers instead of {@code cas}. Several CAS of
   * one instance name add up.
   */
  public ContentAddressableStorage cas(String instanceName, ContentAddressableStorage cas) {
    Objects.requireNonNull(instanceName, "instanceName");
    Objects.requireNonNull(cas, "cas");
    return new MeteredContentAddressableStorage(
        cas,
        casHits.labelValues(instanceName),
        casMisses.labelValues(instanceName),
        casBytesWritten.labelValues(instanceName),
        casBytesRead.labelValues(instanceName));
  }

  /**
   * Counts the hits and misses of {@code actionCache} under {@code instance}: the action cache to
   * hand to the transport and the execution service instead of {@code actionCache}.
   */
  public ActionCache actionCache(String instanceName, ActionCache actionCache) {
    Objects.requireNonNull(instanceName, "instanceName");
    Objects.requireNonNull(actionCache, "actionCache");
    return new MeteredActionCache(
        actionCache,
        actionCacheHits.labelValues(instanceName),
        actionCacheMisses.labelValues(instanceName));
  }

  /**
   * The listener to give the scheduler named {@code schedulerName} with {@link
   * SchedulerBuilder#listener}; it records the queue-wait histogram.
   */
  public SchedulerListener schedulerListener(String schedulerName) {
    Objects.requireNonNull(schedulerName, "schedulerName");
    DistributionDataPoint waits = queueWait.labelValues(schedulerName);
    return new SchedulerListener() {
      @Override
      public void actionStarted(String actionName, String workerName, Duration queued) {
        waits.observe(queued.toNanos() / 1e9);
      }
    };
  }

  /**
   * Reports the queue length, workers and slots of {@code scheduler} under {@code schedulerName},
   * read from {@link Scheduler#stats()} at each scrape.
   *
   * @throws IllegalArgumentException if a scheduler of that name is registered already
   */
  public void registerScheduler(String schedulerName, Scheduler<?, ?> scheduler) {
    components.addScheduler(schedulerName, scheduler);
  }

  /**
   * The listener to give the execution service of instance {@code instanceName} with {@link
   * ExecutionServices.Builder#listener}; it counts actions by outcome.
   */
  public ExecutionListener executionListener(String instanceName) {
    Objects.requireNonNull(instanceName, "instanceName");
    Map<ActionOutcomeLabel, CounterDataPoint> byOutcome = new LinkedHashMap<>();
    for (ActionOutcomeLabel outcome : ActionOutcomeLabel.values()) {
      // Made now, so every outcome shows as 0 before it first happens.
      byOutcome.put(outcome, actions.labelValues(instanceName, outcome.label()));
    }
    return new ExecutionListener() {
      @Override
      public void executionCompleted(Digest actionDigest, ExecuteResponse response) {
        byOutcome.get(ActionOutcomeLabel.of(response)).inc();
      }
    };
  }

  /**
   * The refusal counter to give the access control of the server named {@code serverName}; it
   * counts refusals by reason and permission, labels from fixed sets.
   */
  public Consumer<Refusal> refusalCounter(String serverName) {
    Objects.requireNonNull(serverName, "serverName");
    return refusal ->
        refusals
            .labelValues(
                serverName,
                refusal.reason().label(),
                refusal.neededPermission().map(Permission::configName).orElse("none"))
            .inc();
  }

  /**
   * The counter to give the transport of the server named {@code serverName} for requests refused
   * by a limit. Limit names are fixed strings in the code ({@code HearthException.limit()} checks
   * their form), so the label's values are a bounded set.
   */
  public Consumer<String> limitRefusalCounter(String serverName) {
    Objects.requireNonNull(serverName, "serverName");
    return limit -> limitRefusals.labelValues(serverName, limit).inc();
  }

  /** Answers {@code GET /metrics}. */
  @Override
  public Optional<Response> get(String path, String query) {
    if (!PATH.equals(path)) {
      return Optional.empty();
    }
    return Optional.of(new Response(200, CONTENT_TYPE, scrapeBytes()));
  }

  /** Every series now, in the text exposition format 0.0.4. */
  public String scrape() {
    return new String(scrapeBytes(), StandardCharsets.UTF_8);
  }

  private byte[] scrapeBytes() {
    ByteArrayOutputStream out = new ByteArrayOutputStream(16 * 1024);
    try {
      writer.write(out, registry.scrape(), EscapingScheme.UNDERSCORE_ESCAPING);
    } catch (IOException e) {
      // A ByteArrayOutputStream does not fail.
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /**
   * Builds {@link Metrics}. Each setter checks its argument ({@link NullPointerException} for null,
   * {@link IllegalArgumentException} for a name given twice). Not thread-safe.
   */
  public static final class Builder {
    private final Map<String, BlobStore> blobStores = new LinkedHashMap<>();
    private final Map<String, ActionCacheStore> actionCacheStores = new LinkedHashMap<>();
    private WorkerReports workerReports;
    private int maxPersistentWorkerSeries = PersistentWorkerCollector.MAX_LABEL_SETS;

    private Builder() {}

    /** Reports the size, entries, capacity and evictions of a CAS store, as {@code store=name}. */
    public Builder blobStore(String name, BlobStore store) {
      put(blobStores, name, store, "CAS store");
      return this;
    }

    /** Calls {@link #blobStore} for each entry. */
    public Builder blobStores(Map<String, ? extends BlobStore> stores) {
      stores.forEach(this::blobStore);
      return this;
    }

    /** Reports the size and entries of an action-cache store, as {@code store=name}. */
    public Builder actionCacheStore(String name, ActionCacheStore store) {
      put(actionCacheStores, name, store, "action cache store");
      return this;
    }

    /** Calls {@link #actionCacheStore} for each entry. */
    public Builder actionCacheStores(Map<String, ? extends ActionCacheStore> stores) {
      stores.forEach(this::actionCacheStore);
      return this;
    }

    /**
     * Reports the {@code persistent_worker_*} series from every worker's last report; without it
     * there are none.
     */
    public Builder workerReports(WorkerReports reports) {
      this.workerReports = Objects.requireNonNull(reports, "reports");
      return this;
    }

    /**
     * How many worker/key/tool label sets the {@code persistent_worker_*} series report per scrape
     * (a server's {@code metrics.maxPersistentWorkerSeries}); 500 by default. The rest add up under
     * "other", so workers and clients cannot grow the number of series.
     *
     * @throws IllegalArgumentException if {@code max} is less than 1
     */
    public Builder maxPersistentWorkerSeries(int max) {
      if (max < 1) {
        throw new IllegalArgumentException("maxPersistentWorkerSeries must be positive: " + max);
      }
      this.maxPersistentWorkerSeries = max;
      return this;
    }

    public Metrics build() {
      return new Metrics(this);
    }

    private static <V> void put(Map<String, V> map, String name, V value, String what) {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(value, what);
      if (map.putIfAbsent(name, value) != null) {
        throw new IllegalArgumentException("the " + what + " '" + name + "' is given twice");
      }
    }
  }
}
