package build.hearth.core.ops;

import static build.hearth.core.ops.JsonValues.list;
import static build.hearth.core.ops.JsonValues.map;
import static org.assertj.core.api.Assertions.assertThat;

import build.hearth.api.Digest;
import build.hearth.api.HearthException;
import build.hearth.api.PoolLimits;
import build.hearth.api.PoolStats;
import build.hearth.api.PoolStats.Counters;
import build.hearth.api.PoolStats.KeyStats;
import build.hearth.api.PoolStats.ProcessState;
import build.hearth.api.PoolStats.ProcessStats;
import build.hearth.api.RetirementReason;
import build.hearth.api.StatusCode;
import build.hearth.api.ToolProtocol;
import build.hearth.core.Storage;
import build.hearth.core.config.SandboxConfig;
import build.hearth.core.persistent.FakeToolProcess;
import build.hearth.core.persistent.Lease;
import build.hearth.core.persistent.ToolKey;
import build.hearth.core.persistent.ToolPool;
import build.hearth.core.sandbox.SandboxCapabilities;
import build.hearth.core.scheduler.Scheduler;
import build.hearth.core.scheduler.WorkerSession;
import build.hearth.spi.storage.ActionCacheStore;
import build.hearth.spi.storage.BlobStore;
import build.hearth.spi.storage.StoreContext;
import build.hearth.spi.storage.StoreHealth;
import build.hearth.spi.storage.StoreProviderRegistry;
import build.hearth.spi.storage.StoreSettings;
import build.hearth.spi.storage.StoreStats;
import build.hearth.spi.transport.HttpRoutes;
import build.hearth.spi.transport.HttpRoutes.Response;
import build.hearth.spi.worker.WorkerSpec;
import build.hearth.testing.FakeClock;
import com.google.protobuf.ByteString;
import java.io.InputStream;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AdminRoutesTest {
  private static final Instant T0 = Instant.parse("2026-03-01T10:00:00Z");

  @TempDir Path temp;

  private final FakeClock clock = new FakeClock(T0);
  private final WorkerReports reports = new WorkerReports(clock);
  private final Scheduler<String, String> scheduler = Scheduler.newBuilder().build();
  private BlobStore cas;
  private ActionCacheStore actionCache;
  private ToolPool pool;

  @BeforeEach
  void openStores() {
    StoreProviderRegistry registry =
        StoreProviderRegistry.discover(AdminRoutesTest.class.getClassLoader());
    cas =
        registry.createBlobStore(
            "memory",
            "blobStores.cas.type",
            0,
            StoreContext.newBuilder(
                    "cas", StoreSettings.of("blobStores.cas", Map.of("maxSize", "1MiB")))
                .build());
    actionCache =
        registry.createActionCacheStore(
            "memory",
            "actionCaches.ac.type",
            0,
            StoreContext.newBuilder("ac", StoreSettings.of("actionCaches.ac", Map.of())).build());
  }

  @AfterEach
  void close() {
    if (pool != null) {
      pool.close();
    }
    scheduler.close();
    cas.close();
    actionCache.close();
  }

  private AdminRoutes routes() {
    return AdminRoutes.newBuilder()
        .workerReports(reports)
        .scheduler("default", scheduler)
        .casStore("cas", cas)
        .actionCacheStore("ac", actionCache)
        .clock(clock)
        .version("1.2.3")
        .build();
  }

  private static String text(Response response) {
    return new String(response.body(), StandardCharsets.UTF_8);
  }

  private static Map<String, Object> json(Response response) {
    assertThat(response.status()).isEqualTo(200);
    assertThat(response.contentType()).isEqualTo("application/json; charset=utf-8");
    return JsonValues.object(response.body());
  }

  private static BigDecimal seconds(String value) {
    return new BigDecimal(value);
  }

  @Test
  void healthAndReadiness() {
    AdminRoutes routes = routes();

    Response health = routes.get("/healthz", "").orElseThrow();
    assertThat(health.status()).isEqualTo(200);
    assertThat(text(health)).isEqualTo("ok");
    Response ready = routes.get("/readyz", "").orElseThrow();
    assertThat(ready.status()).isEqualTo(200);
    assertThat(text(ready)).isEqualTo("ready");

    routes.notReady("the server is shutting down");

    Response notReady = routes.get("/readyz", "").orElseThrow();
    assertThat(notReady.status()).isEqualTo(503);
    assertThat(text(notReady)).isEqualTo("not ready: the server is shutting down");
    assertThat(routes.get("/healthz", "").orElseThrow().status()).isEqualTo(200);
    Map<String, Object> status = json(routes.get("/admin/v1/status", "").orElseThrow());
    assertThat(status).containsEntry("ready", false);
    assertThat(status).containsEntry("notReadyReason", "the server is shutting down");
  }

  @Test
  void aClosedStoreOrAFailingCheckMakesTheServerNotReady() {
    AdminRoutes checked =
        AdminRoutes.newBuilder()
            .readinessCheck(() -> Optional.of("scheduler 'default' is closed"))
            .build();
    Response failing = checked.get("/readyz", "").orElseThrow();
    assertThat(failing.status()).isEqualTo(503);
    assertThat(text(failing)).isEqualTo("not ready: scheduler 'default' is closed");

    AdminRoutes routes =
        AdminRoutes.newBuilder().casStore("broken", FakeStore.failing("disk gone")).build();

    Response response = routes.get("/readyz", "").orElseThrow();
    assertThat(response.status()).isEqualTo(503);
    assertThat(text(response))
        .startsWith("not ready: cas store 'broken' is unavailable: ")
        .contains("disk gone");
    Map<String, Object> store =
        map(list(json(routes.get("/admin/v1/status", "").orElseThrow()).get("stores")).get(0));
    assertThat(store)
        .containsEntry("name", "broken")
        .containsEntry("error", "disk gone")
        .doesNotContainKey("entries");
  }

  @Test
  void statusShowsSchedulersStoresAndUptime() {
    AdminRoutes routes = routes();
    WorkerSession session =
        scheduler.connect(WorkerSpec.builder("w1").slots(4).build(), assignment -> {});
    Storage.cas(cas).put(ByteString.copyFromUtf8("hello admin"));
    clock.advance(Duration.ofSeconds(90).plusMillis(250));

    Map<String, Object> status = json(routes.get("/admin/v1/status", "").orElseThrow());
    session.disconnect();

    assertThat(status)
        .containsEntry("version", "1.2.3")
        .containsEntry("startedAt", "2026-03-01T10:00:00Z")
        .containsEntry("uptimeSeconds", seconds("90.250"))
        .containsEntry("ready", true)
        .doesNotContainKey("notReadyReason");
    assertThat(list(status.get("schedulers")))
        .containsExactly(
            Map.of(
                "name", "default",
                "queued", 0L,
                "executing", 0L,
                "workers", 1L,
                "slots", 4L,
                "busySlots", 0L,
                "requeued", 0L));
    List<Object> stores = list(status.get("stores"));
    assertThat(stores).hasSize(2);
    assertThat(map(stores.get(0)))
        .containsEntry("name", "cas")
        .containsEntry("kind", "cas")
        .containsEntry("entries", 1L)
        .containsEntry("sizeBytes", 11L)
        .containsEntry("capacityBytes", 1L << 20)
        .containsEntry("evictions", 0L)
        .containsEntry("evictedBytes", 0L);
    assertThat(map(stores.get(1)))
        .containsEntry("name", "ac")
        .containsEntry("kind", "action_cache")
        .containsEntry("entries", 0L);
    assertThat(map(status.get("workers")))
        .containsEntry("reporting", 0L)
        .containsEntry("persistentProcesses", 0L);
  }

  @Test
  void workersShowEachRemoteReportWithItsKeysAndProcesses() {
    Instant takenAt = T0.minusSeconds(2);
    reports.update(
        new WorkerReports.Report("builder-1", "default", true, T0.minusSeconds(3), handMade()));
    reports.update(
        new WorkerReports.Report("plain", "default", true, T0.minusSeconds(1), Optional.empty()));
    clock.advance(Duration.ofSeconds(1));

    Map<String, Object> doc = json(routes().get("/admin/v1/workers", "").orElseThrow());

    assertThat(doc).containsEntry("takenAt", "2026-03-01T10:00:01Z");
    assertThat(list(doc.get("schedulers"))).hasSize(1);
    List<Object> workers = list(doc.get("workers"));
    assertThat(workers).hasSize(2);
    Map<String, Object> builder = map(workers.get(0));
    assertThat(builder)
        .containsEntry("name", "builder-1")
        .containsEntry("scheduler", "default")
        .containsEntry("remote", true)
        .containsEntry("reportedAt", "2026-03-01T09:59:57Z")
        .containsEntry("reportAgeSeconds", seconds("4.000"));
    Map<String, Object> pool = map(builder.get("persistentWorkers"));
    assertThat(pool)
        .containsEntry("takenAt", takenAt.toString())
        .containsEntry("maxProcesses", 16L)
        .containsEntry("alive", 2L)
        .containsEntry("maxAlive", 3L)
        .containsEntry("waiting", 1L);
    assertThat(map(pool.get("totals"))).containsEntry("spawns", 5L);

    Map<String, Object> key = map(list(pool.get("keys")).get(0));
    assertThat(key)
        .containsEntry("clientKey", "javac-17")
        .containsEntry("tool", "javac")
        .containsEntry("fingerprint", "f".repeat(64))
        .containsEntry("protocol", "json")
        .containsEntry("multiplex", false)
        .containsEntry("idle", 1L)
        .containsEntry("busy", 1L)
        .containsEntry("alive", 2L);
    assertThat(map(key.get("limits")))
        .containsEntry("maxProcessesPerKey", 4L)
        .containsEntry("idleTimeoutSeconds", seconds("300.000"))
        .containsEntry("atCapacity", "wait");
    Map<String, Object> counters = map(key.get("counters"));
    assertThat(counters)
        .containsEntry("spawns", 3L)
        .containsEntry("requests", 40L)
        .containsEntry("warmRequests", 37L)
        .containsEntry("coldRequests", 3L)
        .containsEntry("waitsAtCap", 2L)
        .containsEntry("idleRestarts", 1L)
        .containsEntry("retiredTotal", 1L)
        .containsEntry("latencyCount", 40L)
        .containsEntry("latencySumSeconds", seconds("20.000"))
        .containsEntry("meanLatencySeconds", seconds("0.500"));
    assertThat(map(counters.get("retirements")))
        .containsEntry("memory", 1L)
        .containsEntry("idle", 0L)
        .containsEntry("shutdown", 0L)
        .hasSize(RetirementReason.values().length);

    List<Object> processes = list(key.get("processes"));
    assertThat(map(processes.get(0)))
        .containsEntry("pid", 4711L)
        .containsEntry("state", "idle")
        .containsEntry("inFlight", 0L)
        .containsEntry("requests", 30L)
        .containsEntry("residentBytes", 300L << 20)
        .containsEntry("ageSeconds", seconds("600.000"))
        .containsEntry("idleSeconds", seconds("12.500"))
        .containsEntry("directory", "/work/pool/javac-17/1")
        .containsEntry("retiringFor", null);
    assertThat(map(processes.get(1)))
        .containsEntry("pid", 4712L)
        .containsEntry("state", "draining")
        .containsEntry("residentBytes", null)
        .containsEntry("idleSeconds", seconds("0.000"))
        .containsEntry("retiringFor", "max_requests");

    assertThat(map(workers.get(1)))
        .containsEntry("name", "plain")
        .containsEntry("persistentWorkers", null);
    Map<String, Object> status = json(routes().get("/admin/v1/status", "").orElseThrow());
    assertThat(map(status.get("workers")))
        .containsEntry("reporting", 2L)
        .containsEntry("withPersistentWorkers", 1L)
        .containsEntry("persistentProcesses", 2L);
  }

  @Test
  void anInProcessWorkersLivePoolIsReadWhenAsked() {
    FakeToolProcess.Factory processes = new FakeToolProcess.Factory();
    pool =
        ToolPool.newBuilder()
            .directory(temp)
            .processFactory(processes)
            .clock(clock)
            .sweepInterval(Duration.ZERO)
            .retirementExecutor(Runnable::run)
            .build();
    reports.registerLive("local", "default", () -> Optional.of(pool.stats()));
    ToolKey key =
        new ToolKey(
            "javac-17",
            "javac",
            List.of("bin/javac", "--persistent_worker"),
            Map.of(),
            ToolProtocol.PROTO,
            false,
            false,
            new TreeMap<>(Map.of("bin/javac", "a".repeat(64) + "/10")));
    AdminRoutes routes = routes();

    Lease first = pool.acquire(key, Duration.ZERO);
    first.release();
    clock.advance(Duration.ofSeconds(5));
    Lease second = pool.acquire(key, Duration.ZERO);
    second.release();
    clock.advance(Duration.ofSeconds(7));

    Map<String, Object> worker =
        map(
            list(json(routes.get("/admin/v1/workers", "pretty").orElseThrow()).get("workers"))
                .get(0));
    assertThat(worker).containsEntry("name", "local").containsEntry("remote", false);
    Map<String, Object> row = map(list(map(worker.get("persistentWorkers")).get("keys")).get(0));
    assertThat(row)
        .containsEntry("clientKey", "javac-17")
        .containsEntry("fingerprint", key.fingerprint());
    assertThat(map(row.get("counters")))
        .containsEntry("spawns", 1L)
        .containsEntry("requests", 2L)
        .containsEntry("warmRequests", 1L)
        .containsEntry("coldRequests", 1L);
    Map<String, Object> process = map(list(row.get("processes")).get(0));
    assertThat(process)
        .containsEntry("pid", processes.started().get(0).pid())
        .containsEntry("state", "idle")
        .containsEntry("requests", 2L)
        .containsEntry("ageSeconds", seconds("12.000"))
        .containsEntry("idleSeconds", seconds("7.000"));
  }

  @Test
  void everyWorkersSandboxIsShownWithWhatTheKernelRefused() {
    SandboxCapabilities capabilities =
        new SandboxCapabilities(
            SandboxConfig.Mode.OPTIONAL,
            Set.of(
                SandboxCapabilities.Part.MOUNT,
                SandboxCapabilities.Part.PID,
                SandboxCapabilities.Part.USER),
            Map.of(SandboxCapabilities.Part.NETWORK, "bwrap: loopback: Failed RTM_NEWADDR"),
            "v1",
            "nobody (65534:65534)");
    reports.registerLive(
        "local", "default", Optional::empty, WorkerReports.Sandbox.of(capabilities));
    reports.update(new WorkerReports.Report("old-remote", "default", true, T0, Optional.empty()));

    Map<String, Object> status = json(routes().get("/admin/v1/status", "").orElseThrow());
    List<Object> sandboxes = list(map(status.get("workers")).get("sandboxes"));
    Map<String, Object> workers = json(routes().get("/admin/v1/workers", "").orElseThrow());

    assertThat(sandboxes).hasSize(2);
    Map<String, Object> local = map(sandboxes.get(0));
    assertThat(local).containsEntry("worker", "local").containsEntry("remote", false);
    assertThat(map(local.get("sandbox")))
        .containsEntry("mode", "optional")
        .containsEntry("available", List.of("mount", "pid", "user"))
        .containsEntry("refused", Map.of("network", "bwrap: loopback: Failed RTM_NEWADDR"))
        .containsEntry("cgroups", "v1")
        .containsEntry("actionUser", "nobody (65534:65534)");
    assertThat(map(sandboxes.get(1)))
        .containsEntry("worker", "old-remote")
        .containsEntry("remote", true)
        .containsEntry("sandbox", null);
    assertThat(map(list(workers.get("workers")).get(0)).get("sandbox"))
        .isEqualTo(local.get("sandbox"));
  }

  @Test
  void aDrainingWorkerIsShownAsDrainingInStatusAndWorkers() {
    reports.update(new WorkerReports.Report("stopping", "default", true, T0, Optional.empty()));
    reports.update(new WorkerReports.Report("staying", "default", true, T0, Optional.empty()));
    reports.markDraining("stopping");

    Map<String, Object> status = json(routes().get("/admin/v1/status", "").orElseThrow());
    List<Object> sandboxes = list(map(status.get("workers")).get("sandboxes"));
    List<Object> workers =
        list(json(routes().get("/admin/v1/workers", "").orElseThrow()).get("workers"));

    assertThat(map(sandboxes.get(0)))
        .containsEntry("worker", "staying")
        .containsEntry("draining", false);
    assertThat(map(sandboxes.get(1)))
        .containsEntry("worker", "stopping")
        .containsEntry("draining", true);
    assertThat(map(workers.get(1)))
        .containsEntry("name", "stopping")
        .containsEntry("draining", true);
    assertThat(map(workers.get(0))).containsEntry("draining", false);
  }

  @Test
  void prettyJsonIsIndentedAndOtherPathsAreLeftToOtherRoutes() {
    AdminRoutes routes = routes();

    assertThat(text(routes.get("/admin/v1/status", "pretty").orElseThrow())).contains("\n  \"");
    assertThat(text(routes.get("/admin/v1/status", "pretty=false").orElseThrow()))
        .doesNotContain("\n");
    Response unknown = routes.get("/admin/v2/status", "").orElseThrow();
    assertThat(unknown.status()).isEqualTo(404);
    assertThat(text(unknown)).contains("/admin/v1/status", "/admin/v1/workers");
    assertThat(routes.get("/metrics", "")).isEmpty();
    HttpRoutes combined =
        routes.orElse((path, query) -> Optional.of(Response.ok("text/plain", "m")));
    assertThat(text(combined.get("/metrics", "").orElseThrow())).isEqualTo("m");
  }

  @Test
  void prettyIsAskedForByNameOrWithATrueValue() {
    assertThat(AdminRoutes.pretty("pretty")).isTrue();
    assertThat(AdminRoutes.pretty("a=b&pretty=1")).isTrue();
    assertThat(AdminRoutes.pretty("pretty=0")).isFalse();
    assertThat(AdminRoutes.pretty("")).isFalse();
    assertThat(AdminRoutes.pretty("prettyish")).isFalse();
  }

  /** A pool snapshot with one key, an idle process and a draining one. */
  private static Optional<PoolStats> handMade() {
    Instant takenAt = T0.minusSeconds(2);
    EnumMap<RetirementReason, Long> retired = new EnumMap<>(RetirementReason.class);
    retired.put(RetirementReason.MEMORY, 1L);
    Counters counters =
        new Counters(3, 0, 40, 37, 3, 2, 0, 0, 1, retired, 40, Duration.ofSeconds(20));
    Counters totals =
        new Counters(5, 1, 50, 45, 5, 2, 0, 0, 1, retired, 50, Duration.ofSeconds(25));
    ProcessStats idle =
        new ProcessStats(
            4711,
            ProcessState.IDLE,
            0,
            30,
            OptionalLong.of(300L << 20),
            takenAt.minusSeconds(600),
            takenAt.minusMillis(12_500),
            Path.of("/work/pool/javac-17/1"),
            Optional.empty());
    ProcessStats draining =
        new ProcessStats(
            4712,
            ProcessState.DRAINING,
            1,
            10,
            OptionalLong.empty(),
            takenAt.minusSeconds(60),
            takenAt.minusSeconds(1),
            Path.of("/work/pool/javac-17/2"),
            Optional.of(RetirementReason.MAX_REQUESTS));
    KeyStats key =
        new KeyStats(
            "javac-17",
            "javac",
            "f".repeat(64),
            ToolProtocol.JSON,
            false,
            PoolLimits.newBuilder().maxProcessesPerKey(4).build(),
            0,
            1,
            1,
            0,
            1,
            3,
            counters,
            List.of(idle, draining));
    return Optional.of(new PoolStats(takenAt, 16, 2, 3, 1, totals, List.of(key)));
  }

  @Test
  void readyzAsksTheStoresHealthNotTheirStatistics() {
    FakeStore remote = new FakeStore();
    remote.health = StoreHealth.healthy();
    AdminRoutes routes = AdminRoutes.newBuilder().casStore("shared", remote).build();

    assertThat(routes.get("/readyz", "").orElseThrow().status()).isEqualTo(200);
    remote.health =
        StoreHealth.unavailable(
            "blobStores.shared: Redis at redis://10.0.0.5:6379 does not answer");
    Response response = routes.get("/readyz", "").orElseThrow();
    assertThat(response.status()).isEqualTo(503);
    assertThat(text(response))
        .isEqualTo(
            "not ready: cas store 'shared' is unavailable: blobStores.shared: Redis at"
                + " redis://10.0.0.5:6379 does not answer");
    assertThat(remote.statsCalls).as("statistics read by /readyz").isZero();

    remote.health = StoreHealth.healthy();
    assertThat(routes.get("/readyz", "").orElseThrow().status()).isEqualTo(200);
    Map<String, Object> status = json(routes.get("/admin/v1/status", "").orElseThrow());
    assertThat(status).containsEntry("ready", true);
  }

  /**
   * A store whose statistics count their reads and may fail (as a store whose disk went away), and
   * whose health is either set by the test (as a store on a remote service reports what it last
   * saw) or, when not set, the default that reads the statistics.
   */
  private static final class FakeStore implements BlobStore {
    volatile StoreHealth health;
    RuntimeException statsFailure;
    int statsCalls;

    static FakeStore failing(String message) {
      FakeStore store = new FakeStore();
      store.statsFailure = new HearthException(StatusCode.UNAVAILABLE, message);
      return store;
    }

    @Override
    public boolean contains(Digest digest) {
      return false;
    }

    @Override
    public Optional<InputStream> read(Digest digest, long offset) {
      return Optional.empty();
    }

    @Override
    public Upload startUpload(Digest digest) {
      throw new UnsupportedOperationException();
    }

    @Override
    public StoreStats stats() {
      statsCalls++;
      if (statsFailure != null) {
        throw statsFailure;
      }
      return new StoreStats(0, 0, 100, 0, 0);
    }

    @Override
    public StoreHealth health() {
      return health != null ? health : BlobStore.super.health();
    }

    @Override
    public void close() {}
  }
}
