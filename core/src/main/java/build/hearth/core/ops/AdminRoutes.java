package build.hearth.core.ops;

import build.hearth.core.scheduler.Scheduler;
import build.hearth.spi.storage.ActionCacheStore;
import build.hearth.spi.storage.BlobStore;
import build.hearth.spi.transport.HttpRoutes;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * The server's health and admin endpoints, served on its gRPC port:
 *
 * <ul>
 *   <li>{@code GET /healthz}: 200 {@code ok} while the process serves at all.
 *   <li>{@code GET /readyz}: 200 {@code ready} when every store reports itself healthy and nothing
 *       marked the server {@linkplain #notReady not ready}; otherwise 503 with the reason in the
 *       body, naming the store and, for a store on a remote service such as Redis, its address and
 *       the error.
 *   <li>{@code GET /admin/v1/status}: JSON with the server's version and uptime, each scheduler's
 *       queue, workers and slots, and each store's entries, size, capacity and evictions.
 *   <li>{@code GET /admin/v1/workers}: JSON with every worker that reported (in-process workers
 *       live, remote workers as of their last report) and its persistent-worker pool: per key the
 *       counters and the processes with their pid, state, requests, resident memory, age and idle
 *       time.
 * </ul>
 *
 * Add {@code ?pretty} to an admin path for indented JSON. Other paths under {@code /admin/} get a
 * 404 that names the known ones; paths outside these are not served (so {@link #orElse} can add
 * more routes).
 *
 * <pre>{@code
 * AdminRoutes admin = AdminRoutes.newBuilder()
 *     .workerReports(reports)
 *     .scheduler("default", scheduler)
 *     .casStore("cas", blobStore)
 *     .actionCacheStore("ac", actionCacheStore)
 *     .build();
 * HttpRoutes routes = admin.orElse(metricsRoutes);
 * // when shutting down:
 * admin.notReady("the server is shutting down");
 * }</pre>
 *
 * <p>Thread-safe. {@code /readyz} reads in-memory state only (the stores' health, which stores on a
 * remote service answer from what they last saw, the workers' reports), so it can run on a
 * transport's I/O thread; {@code /admin/v1/status} also reads each store's statistics, which may
 * cost a store a query.
 */
public final class AdminRoutes implements HttpRoutes {
  static final String JSON = "application/json; charset=utf-8";
  static final String TEXT = "text/plain; charset=utf-8";

  private final WorkerReports workerReports;
  private final Map<String, Scheduler<?, ?>> schedulers;
  private final List<AdminJson.Store> stores;
  private final List<Supplier<Optional<String>>> readinessChecks;
  private final Clock clock;
  private final String version;
  private final Instant startedAt;
  private volatile String notReadyReason;

  private AdminRoutes(Builder builder) {
    this.workerReports =
        builder.workerReports != null ? builder.workerReports : new WorkerReports(builder.clock);
    this.schedulers = Map.copyOf(builder.schedulers);
    this.stores = List.copyOf(builder.stores);
    this.readinessChecks = List.copyOf(builder.readinessChecks);
    this.clock = builder.clock;
    this.version = builder.version;
    this.startedAt = clock.instant();
  }

  /** A builder with no schedulers, no stores, an empty {@link WorkerReports} and the UTC clock. */
  public static Builder newBuilder() {
    return new Builder();
  }

  /**
   * Makes {@code /readyz} answer 503 with {@code reason} from now on, for instance when the server
   * begins to shut down, so that load balancers stop sending work before connections close.
   */
  public void notReady(String reason) {
    this.notReadyReason = Objects.requireNonNull(reason, "reason");
  }

  @Override
  public Optional<Response> get(String path, String query) {
    return switch (path) {
      case "/healthz" -> Optional.of(Response.ok(TEXT, "ok"));
      case "/readyz" -> Optional.of(readiness());
      case "/admin/v1/status" -> Optional.of(json(query, this::writeStatus));
      case "/admin/v1/workers" -> Optional.of(json(query, this::writeWorkers));
      default ->
          path.startsWith("/admin/")
              ? Optional.of(
                  new Response(
                      404,
                      TEXT,
                      ("no admin endpoint at "
                              + path
                              + "; the admin endpoints are /admin/v1/status and /admin/v1/workers")
                          .getBytes(StandardCharsets.UTF_8)))
              : Optional.empty();
    };
  }

  private Response readiness() {
    Optional<String> reason = notReadyReason(Stream.empty());
    return reason
        .map(why -> new Response(503, TEXT, ("not ready: " + why).getBytes(StandardCharsets.UTF_8)))
        .orElseGet(() -> Response.ok(TEXT, "ready"));
  }

  /**
   * Why the server is not ready, or empty when it is: marked not ready, a store whose {@code
   * storeReadings} failed (the status document's, so that its readiness and its list of stores
   * agree), a store whose {@link BlobStore#health() health} is unavailable, or a failing readiness
   * check. Each is consulted only as far as needed. The stores' health, not their statistics, is
   * what {@code /readyz} asks: a store that depends on a remote service answers it from what it
   * last saw, so probes under load neither wait for nor hammer that service.
   */
  private Optional<String> notReadyReason(Stream<AdminJson.Reading> storeReadings) {
    String marked = notReadyReason;
    if (marked != null) {
      return Optional.of(marked);
    }
    Optional<AdminJson.Reading> failed =
        storeReadings.filter(reading -> reading.failure() != null).findFirst();
    if (failed.isPresent()) {
      // A store that cannot account for itself cannot serve either.
      return Optional.of(unavailable(failed.get().store(), failed.get().failure().getMessage()));
    }
    for (AdminJson.Store store : stores) {
      Optional<String> problem = store.health().get().problem();
      if (problem.isPresent()) {
        return Optional.of(unavailable(store, problem.get()));
      }
    }
    for (Supplier<Optional<String>> check : readinessChecks) {
      Optional<String> reason = check.get();
      if (reason.isPresent()) {
        return reason;
      }
    }
    return Optional.empty();
  }

  private static String unavailable(AdminJson.Store store, String problem) {
    return store.kind() + " store '" + store.name() + "' is unavailable: " + problem;
  }

  private interface Body {
    void write(AdminJson json) throws IOException;
  }

  private static Response json(String query, Body body) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (AdminJson json = AdminJson.open(bytes, pretty(query))) {
      body.write(json);
    } catch (IOException e) {
      // Writing to memory does not fail; a failure here is a bug.
      throw new UncheckedIOException(e);
    }
    return new Response(200, JSON, bytes.toByteArray());
  }

  /**
   * Whether the query asks for indentation: {@code pretty}, {@code pretty=1}, {@code pretty=true}.
   */
  static boolean pretty(String query) {
    for (String parameter : query.split("&")) {
      int equals = parameter.indexOf('=');
      String name = equals < 0 ? parameter : parameter.substring(0, equals);
      String value = equals < 0 ? "" : parameter.substring(equals + 1);
      if (name.equals("pretty") && !value.equals("0") && !value.equals("false")) {
        return true;
      }
    }
    return false;
  }

  private void writeStatus(AdminJson json) throws IOException {
    Instant now = clock.instant();
    // Each store is read once (a plugin's statistics may cost a query), so that the document's
    // readiness and its list of stores also agree.
    List<AdminJson.Reading> readings = stores.stream().map(AdminJson.Store::read).toList();
    Optional<String> notReady = notReadyReason(readings.stream());
    Map<String, WorkerReports.Report> reports = workerReports.snapshot();
    json.status(version, startedAt, now, notReady, schedulers, readings, reports);
  }

  private void writeWorkers(AdminJson json) throws IOException {
    json.workers(clock.instant(), schedulers, workerReports.snapshot());
  }

  /**
   * Builds {@link AdminRoutes}. Setters throw {@link NullPointerException} for null arguments and
   * {@link IllegalArgumentException} for a name given twice. Not thread-safe.
   */
  public static final class Builder {
    private WorkerReports workerReports; // null: an empty registry on this builder's clock
    private final Map<String, Scheduler<?, ?>> schedulers = new LinkedHashMap<>();
    private final List<AdminJson.Store> stores = new ArrayList<>();
    private final List<Supplier<Optional<String>>> readinessChecks = new ArrayList<>();
    private Clock clock = Clock.systemUTC();
    private String version = defaultVersion();

    private Builder() {}

    /** Where the workers' reports are read; an empty registry by default. */
    public Builder workerReports(WorkerReports reports) {
      this.workerReports = Objects.requireNonNull(reports, "reports");
      return this;
    }

    /** A scheduler to show under {@code name}, as named in the configuration. */
    public Builder scheduler(String name, Scheduler<?, ?> scheduler) {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(scheduler, "scheduler");
      if (schedulers.putIfAbsent(name, scheduler) != null) {
        throw new IllegalArgumentException("scheduler '" + name + "' given twice");
      }
      return this;
    }

    /**
     * A CAS blob store to show under {@code name}; {@code /readyz} fails while its {@link
     * BlobStore#health() health} is unavailable.
     */
    public Builder casStore(String name, BlobStore store) {
      Objects.requireNonNull(store, "store");
      return store(new AdminJson.Store(name, "cas", store::stats, store::health));
    }

    /**
     * An action-cache store to show under {@code name}; {@code /readyz} fails while its {@link
     * ActionCacheStore#health() health} is unavailable.
     */
    public Builder actionCacheStore(String name, ActionCacheStore store) {
      Objects.requireNonNull(store, "store");
      return store(new AdminJson.Store(name, "action_cache", store::stats, store::health));
    }

    private Builder store(AdminJson.Store store) {
      Objects.requireNonNull(store.name(), "name");
      for (AdminJson.Store other : stores) {
        if (other.name().equals(store.name()) && other.kind().equals(store.kind())) {
          throw new IllegalArgumentException(
              store.kind() + " store '" + store.name() + "' given twice");
        }
      }
      stores.add(store);
      return this;
    }

    /**
     * One more condition for {@code /readyz}: {@code check} returns why the server is not ready, or
     * empty when it is. It must be fast and must not block.
     */
    public Builder readinessCheck(Supplier<Optional<String>> check) {
      readinessChecks.add(Objects.requireNonNull(check, "check"));
      return this;
    }

    /** The clock of the uptime and of the workers' report ages; the UTC system clock by default. */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * The version shown by {@code /admin/v1/status}; by default the jar's implementation version.
     */
    public Builder version(String version) {
      this.version = Objects.requireNonNull(version, "version");
      return this;
    }

    /** Builds the routes; the uptime counts from now. */
    public AdminRoutes build() {
      return new AdminRoutes(this);
    }

    private static String defaultVersion() {
      String version = AdminRoutes.class.getPackage().getImplementationVersion();
      return version == null ? "development build" : version;
    }
  }
}
