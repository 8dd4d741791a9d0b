package build.hearth.core.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import build.bazel.remote.execution.v2.Action;
import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.Command;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.ExecuteRequest;
import build.bazel.remote.execution.v2.Platform;
import build.hearth.api.ActionCache;
import build.hearth.api.BlobUpload;
import build.hearth.api.ContentAddressableStorage;
import build.hearth.api.Digest;
import build.hearth.api.Execution;
import build.hearth.api.ExecutionService;
import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import build.hearth.core.Closer;
import build.hearth.core.Storage;
import build.hearth.core.execution.ExecutionServices;
import build.hearth.core.scheduler.ActionRequest;
import build.hearth.core.scheduler.Assignment;
import build.hearth.core.scheduler.Scheduler;
import build.hearth.core.scheduler.WorkerListener;
import build.hearth.core.storage.MemoryActionCacheStoreProvider;
import build.hearth.core.storage.MemoryBlobStoreProvider;
import build.hearth.core.storage.TieredBlobStoreProvider;
import build.hearth.spi.storage.ActionCacheStore;
import build.hearth.spi.storage.BlobStore;
import build.hearth.spi.storage.StoreContext;
import build.hearth.spi.storage.StoreProviderRegistry;
import build.hearth.spi.storage.StoreSettings;
import build.hearth.spi.storage.StoreStats;
import build.hearth.spi.transport.HttpRoutes.Response;
import build.hearth.spi.worker.ActionOutcome;
import build.hearth.spi.worker.ExecutionTask;
import build.hearth.spi.worker.WorkerSpec;
import build.hearth.testing.FakeClock;
import com.google.protobuf.ByteString;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class MetricsTest {
  private final Closer toClose = new Closer();

  @AfterEach
  void closeAll() {
    toClose.close();
  }

  private <C extends AutoCloseable> C closing(C closeable) {
    return toClose.register(closeable);
  }

  private BlobStore memoryBlobStore(String name, long maxSize) {
    StoreContext context =
        StoreContext.newBuilder(
                name, StoreSettings.of("blobStores." + name, Map.of("maxSize", maxSize)))
            .build();
    return closing(new MemoryBlobStoreProvider().create(context));
  }

  private ActionCacheStore memoryActionCacheStore(String name) {
    StoreContext context =
        StoreContext.newBuilder(name, StoreSettings.of("actionCacheStores." + name, Map.of()))
            .build();
    return closing(new MemoryActionCacheStoreProvider().create(context));
  }

  private static ByteString bytes(String text) {
    return ByteString.copyFromUtf8(text);
  }

  private static Exposition scrape(Metrics metrics) {
    Optional<Response> response = metrics.get("/metrics", "");
    assertThat(response).isPresent();
    assertThat(response.get().status()).isEqualTo(200);
    assertThat(response.get().contentType()).isEqualTo("text/plain; version=0.0.4; charset=utf-8");
    return Exposition.parse(new String(response.get().body(), StandardCharsets.UTF_8));
  }

  // ---- stores ----

  @Test
  void casLookupsAndBytesAreCountedPerInstance() throws IOException {
    BlobStore store = memoryBlobStore("cas", 1 << 20);
    Metrics metrics = Metrics.newBuilder().blobStore("cas", store).build();
    ContentAddressableStorage cas = metrics.cas("main", Storage.cas(store));
    Digest hello = cas.put(bytes("hello"));
    Digest absent = Digest.of("absent".getBytes(StandardCharsets.UTF_8));

    assertThat(cas.findMissing(List.of(hello, absent))).containsExactly(absent);
    assertThat(cas.contains(absent)).isFalse();
    assertThat(cas.get(hello)).isEqualTo(bytes("hello"));
    assertThatThrownBy(() -> cas.get(absent))
        .isInstanceOfSatisfying(
            HearthException.class, e -> assertThat(e.code()).isEqualTo(StatusCode.NOT_FOUND));
    try (InputStream in = cas.read(hello, 1, 0)) {
      assertThat(in.readAllBytes()).hasSize(4);
    }
    ByteString streamed = bytes("streamed blob");
    Digest streamedDigest = Digest.of(streamed);
    try (BlobUpload upload = cas.startUpload(streamedDigest)) {
      upload.write(streamed);
      upload.commit();
    }
    cas.putAll(Map.of(Digest.of("abc".getBytes(StandardCharsets.UTF_8)), bytes("abc")));

    Exposition exposition = scrape(metrics);
    // findMissing: one hit, one miss; contains: a miss; get: a hit and a miss; read: a hit.
    assertThat(exposition.value("hearth_cas_hits_total", "instance", "main")).isEqualTo(3);
    assertThat(exposition.value("hearth_cas_misses_total", "instance", "main")).isEqualTo(3);
    assertThat(exposition.value("hearth_cas_bytes_written_total", "instance", "main"))
        .isEqualTo(5 + 13 + 3);
    assertThat(exposition.value("hearth_cas_bytes_read_total", "instance", "main"))
        .isEqualTo(5 + 4);
    assertThat(exposition.types)
        .containsEntry("hearth_cas_hits_total", "counter")
        .containsEntry("hearth_cas_size_bytes", "gauge");
    assertThat(exposition.value("hearth_cas_entries", "store", "cas")).isEqualTo(3);
    assertThat(exposition.value("hearth_cas_size_bytes", "store", "cas")).isEqualTo(5 + 13 + 3);
    assertThat(exposition.value("hearth_cas_capacity_bytes", "store", "cas")).isEqualTo(1 << 20);
    assertThat(exposition.value("hearth_cas_evictions_total", "store", "cas")).isZero();
  }

  @Test
  void aTieredStoreReportsItsSharedTierAsTheStoreAndItsLocalTierApart() {
    StoreContext context =
        StoreContext.newBuilder(
                "main",
                StoreSettings.of(
                    "blobStores.main",
                    Map.of(
                        "local", Map.of("type", "memory", "maxSize", 16, "entryOverhead", 0),
                        "shared", Map.of("type", "memory", "maxSize", 1024, "entryOverhead", 0))))
            .build();
    BlobStore tiered =
        closing(
            StoreProviderRegistry.of(
                    List.of(new MemoryBlobStoreProvider(), new TieredBlobStoreProvider()),
                    List.of())
                .createBlobStore("tiered", "blobStores.main.type", 0, context));
    Metrics metrics = Metrics.newBuilder().blobStores(Map.of("main", tiered)).build();
    ContentAddressableStorage cas = metrics.cas("", Storage.cas(tiered));
    // Three blobs of 10 bytes: the shared tier keeps all, the local tier of 16 bytes the last.
    for (String text : List.of("aaaaaaaaaa", "bbbbbbbbbb", "cccccccccc")) {
      cas.put(bytes(text));
    }

    Exposition exposition = scrape(metrics);
    assertThat(exposition.value("hearth_cas_size_bytes", "store", "main")).isEqualTo(30);
    assertThat(exposition.value("hearth_cas_capacity_bytes", "store", "main")).isEqualTo(1024);
    assertThat(exposition.value("hearth_cas_evictions_total", "store", "main")).isZero();
    assertThat(exposition.value("hearth_cas_local_size_bytes", "store", "main")).isEqualTo(10);
    assertThat(exposition.value("hearth_cas_local_capacity_bytes", "store", "main")).isEqualTo(16);
    assertThat(exposition.value("hearth_cas_local_evictions_total", "store", "main")).isEqualTo(2);
    assertThat(exposition.value("hearth_cas_local_failures_total", "store", "main")).isZero();
  }

  @Test
  void storeSeriesFollowTheStoresStatistics() {
    BlobStore small = memoryBlobStore("small", 16);
    ActionCacheStore acStore = memoryActionCacheStore("ac");
    Metrics metrics =
        Metrics.newBuilder()
            .blobStores(Map.of("small", small))
            .actionCacheStores(Map.of("ac", acStore))
            .build();
    ContentAddressableStorage cas = metrics.cas("", Storage.cas(small));
    ActionCache actionCache = metrics.actionCache("", Storage.actionCache(acStore, cas));
    // Three blobs of 10 bytes in a store of 16: each new one evicts the one before.
    for (String text : List.of("aaaaaaaaaa", "bbbbbbbbbb", "cccccccccc")) {
      cas.put(bytes(text));
    }
    Digest action = cas.put(bytes("action"));
    assertThat(actionCache.get(action)).isEmpty();
    // Not the default result, whose encoding is empty.
    actionCache.put(action, ActionResult.newBuilder().setExitCode(3).build());
    assertThat(actionCache.get(action)).isPresent();

    Exposition exposition = scrape(metrics);
    StoreStats stats = small.stats();
    assertThat(stats.evictions()).isGreaterThanOrEqualTo(2);
    assertThat(exposition.value("hearth_cas_evictions_total", "store", "small"))
        .isEqualTo(stats.evictions());
    assertThat(exposition.value("hearth_cas_entries", "store", "small")).isEqualTo(stats.entries());
    assertThat(exposition.value("hearth_cas_size_bytes", "store", "small"))
        .isEqualTo(stats.sizeBytes());
    assertThat(exposition.value("hearth_action_cache_entries", "store", "ac")).isEqualTo(1);
    assertThat(exposition.value("hearth_action_cache_size_bytes", "store", "ac"))
        .isEqualTo(acStore.stats().sizeBytes())
        .isPositive();
    assertThat(exposition.value("hearth_action_cache_hits_total", "instance", "")).isEqualTo(1);
    assertThat(exposition.value("hearth_action_cache_misses_total", "instance", "")).isEqualTo(1);
  }

  @Test
  void aStoreWhoseStatisticsFailIsLeftOutAndTheRestServed() {
    BlobStore good = memoryBlobStore("good", 1024);
    BlobStore failing =
        (BlobStore)
            java.lang.reflect.Proxy.newProxyInstance(
                BlobStore.class.getClassLoader(),
                new Class<?>[] {BlobStore.class},
                (proxy, method, args) -> {
                  throw new IllegalStateException("the store is gone");
                });
    Metrics metrics =
        Metrics.newBuilder().blobStore("good", good).blobStore("failing", failing).build();

    Exposition exposition = scrape(metrics);

    assertThat(exposition.value("hearth_cas_entries", "store", "good")).isZero();
    assertThat(exposition.samples("hearth_cas_entries")).hasSize(1);
  }

  // ---- schedulers ----

  /** Records assignments; the test answers them. */
  private static final class RecordingWorker<T, R> implements WorkerListener<T, R> {
    final List<Assignment<T, R>> assigned = new CopyOnWriteArrayList<>();

    @Override
    public void assign(Assignment<T, R> assignment) {
      assigned.add(assignment);
    }
  }

  @Test
  void schedulerSeriesAndTheQueueWaitHistogram() {
    FakeClock clock = new FakeClock();
    Metrics metrics = Metrics.newBuilder().build();
    Scheduler<String, String> scheduler =
        closing(
            Scheduler.newBuilder()
                .callbackExecutor(Runnable::run)
                .expiryCheckInterval(Duration.ZERO)
                .clock(clock)
                .listener(metrics.schedulerListener("default"))
                .<String, String>build());
    metrics.registerScheduler("default", scheduler);
    Platform none = Platform.getDefaultInstance();

    scheduler.submit(ActionRequest.of("first", none, "first"));
    scheduler.submit(ActionRequest.of("second", none, "second"));
    Exposition queued = scrape(metrics);
    assertThat(queued.value("hearth_scheduler_queued_actions", "scheduler", "default"))
        .isEqualTo(2);
    assertThat(queued.value("hearth_scheduler_workers", "scheduler", "default")).isZero();

    clock.advance(Duration.ofSeconds(3));
    RecordingWorker<String, String> worker = new RecordingWorker<>();
    scheduler.connect(WorkerSpec.builder("w1").slots(1).build(), worker);
    clock.advance(Duration.ofMillis(40_000));
    worker.assigned.get(0).complete("done");

    Exposition exposition = scrape(metrics);
    assertThat(exposition.value("hearth_scheduler_queued_actions", "scheduler", "default"))
        .isZero();
    assertThat(exposition.value("hearth_scheduler_workers", "scheduler", "default")).isEqualTo(1);
    assertThat(exposition.value("hearth_scheduler_slots", "scheduler", "default")).isEqualTo(1);
    assertThat(exposition.value("hearth_scheduler_busy_slots", "scheduler", "default"))
        .isEqualTo(1);
    assertThat(exposition.value("hearth_scheduler_requeued_actions_total", "scheduler", "default"))
        .isZero();
    assertThat(
            exposition.value("hearth_scheduler_overdue_assignments_total", "scheduler", "default"))
        .isZero();
    assertThat(exposition.types).containsEntry("hearth_scheduler_queue_wait_seconds", "histogram");
    String wait = "hearth_scheduler_queue_wait_seconds";
    // One action waited 3 s, the other 43 s; the buckets count cumulatively.
    assertThat(exposition.value(wait + "_bucket", "scheduler", "default", "le", "2.5")).isZero();
    assertThat(exposition.value(wait + "_bucket", "scheduler", "default", "le", "5.0"))
        .isEqualTo(1);
    assertThat(exposition.value(wait + "_bucket", "scheduler", "default", "le", "30.0"))
        .isEqualTo(1);
    assertThat(exposition.value(wait + "_bucket", "scheduler", "default", "le", "60.0"))
        .isEqualTo(2);
    assertThat(exposition.value(wait + "_bucket", "scheduler", "default", "le", "+Inf"))
        .isEqualTo(2);
    assertThat(exposition.value(wait + "_count", "scheduler", "default")).isEqualTo(2);
    assertThat(exposition.value(wait + "_sum", "scheduler", "default")).isEqualTo(46.0);
  }

  @Test
  void aSchedulerNameIsRegisteredOnce() {
    Metrics metrics = Metrics.newBuilder().build();
    Scheduler<String, String> scheduler =
        closing(Scheduler.newBuilder().expiryCheckInterval(Duration.ZERO).build());
    metrics.registerScheduler("s", scheduler);
    assertThatThrownBy(() -> metrics.registerScheduler("s", scheduler))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'s'");
    BlobStore store = memoryBlobStore("cas", 1024);
    assertThatThrownBy(() -> Metrics.newBuilder().blobStore("cas", store).blobStore("cas", store))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'cas'");
  }

  // ---- executions ----

  @Test
  void actionsAreCountedByOutcome() {
    BlobStore blobStore = memoryBlobStore("cas", 1 << 20);
    ActionCacheStore acStore = memoryActionCacheStore("ac");
    Metrics metrics = Metrics.newBuilder().build();
    ContentAddressableStorage cas = metrics.cas("main", Storage.cas(blobStore));
    ActionCache actionCache = metrics.actionCache("main", Storage.actionCache(acStore, cas));
    Scheduler<ExecutionTask, ActionOutcome> scheduler =
        closing(
            Scheduler.newBuilder()
                .callbackExecutor(Runnable::run)
                .expiryCheckInterval(Duration.ZERO)
                .<ExecutionTask, ActionOutcome>build());
    ExecutionService service =
        ExecutionServices.newBuilder()
            .instanceName("main")
            .cas(cas)
            .actionCache(actionCache)
            .scheduler(scheduler)
            .listener(metrics.executionListener("main"))
            .build();
    RecordingWorker<ExecutionTask, ActionOutcome> worker = new RecordingWorker<>();
    scheduler.connect(WorkerSpec.builder("w").slots(10).build(), worker);

    Execution success = service.execute(request(cas, "success"));
    worker.assigned.get(0).complete(exited(0));
    Execution cached = service.execute(request(cas, "success"));
    Execution nonzero = service.execute(request(cas, "nonzero"));
    worker.assigned.get(1).complete(exited(2));
    Execution timeout = service.execute(request(cas, "timeout"));
    worker
        .assigned
        .get(2)
        .complete(
            new ActionOutcome(
                ActionResult.getDefaultInstance(), StatusCode.DEADLINE_EXCEEDED, "too slow"));
    Execution failed = service.execute(request(cas, "failed"));
    worker.assigned.get(3).fail(new HearthException(StatusCode.INTERNAL, "the worker broke"));
    Execution cancelled = service.execute(request(cas, "cancelled"));
    assertThat(cancelled.cancel()).isTrue();

    for (Execution execution : List.of(success, cached, nonzero, timeout, failed, cancelled)) {
      assertThat(execution.result()).isDone();
    }
    assertThat(cached.result().join().getCachedResult()).isTrue();
    Exposition exposition = scrape(metrics);
    for (String outcome :
        List.of("success", "nonzero_exit", "failed", "cancelled", "timeout", "cached")) {
      assertThat(exposition.value("hearth_actions_total", "instance", "main", "outcome", outcome))
          .as(outcome)
          .isEqualTo(1);
    }
    assertThat(exposition.value("hearth_action_cache_hits_total", "instance", "main")).isEqualTo(1);
    assertThat(exposition.value("hearth_action_cache_misses_total", "instance", "main"))
        .isEqualTo(5);
  }

  @Test
  void everyOutcomeShowsAsZeroBeforeItHappens() {
    Metrics metrics = Metrics.newBuilder().build();
    metrics.executionListener("main");

    Exposition exposition = scrape(metrics);

    assertThat(exposition.samples("hearth_actions_total"))
        .extracting(sample -> sample.labels().get("outcome"))
        .containsExactlyInAnyOrder(
            "success", "nonzero_exit", "failed", "cancelled", "timeout", "cached");
    assertThat(exposition.samples("hearth_actions_total"))
        .allSatisfy(sample -> assertThat(sample.value()).isZero());
  }

  private static ExecuteRequest request(ContentAddressableStorage cas, String name) {
    Command command = Command.newBuilder().addArguments(name).build();
    Digest commandDigest = cas.put(command.toByteString());
    Digest inputRoot = cas.put(Directory.getDefaultInstance().toByteString());
    Action action =
        Action.newBuilder()
            .setCommandDigest(commandDigest.toProto())
            .setInputRootDigest(inputRoot.toProto())
            .build();
    Digest actionDigest = cas.put(action.toByteString());
    return ExecuteRequest.newBuilder().setActionDigest(actionDigest.toProto()).build();
  }

  private static ActionOutcome exited(int exitCode) {
    return ActionOutcome.completed(ActionResult.newBuilder().setExitCode(exitCode).build());
  }

  // ---- the route and independence ----

  @Test
  void servesOnlyItsPath() {
    Metrics metrics = Metrics.newBuilder().build();

    assertThat(metrics.get("/metrics", "name[]=x")).isPresent();
    assertThat(metrics.get("/metrics/", "")).isEmpty();
    assertThat(metrics.get("/healthz", "")).isEmpty();
    assertThat(
            metrics
                .orElse((path, query) -> Optional.of(Response.ok("text/plain", "ok")))
                .get("/metrics", ""))
        .get()
        .extracting(Response::contentType)
        .isEqualTo(Metrics.CONTENT_TYPE);
  }

  @Test
  void twoInstancesCountSeparately() {
    BlobStore store = memoryBlobStore("cas", 1 << 20);
    Metrics first = Metrics.newBuilder().blobStore("first-store", store).build();
    Metrics second = Metrics.newBuilder().build();
    ContentAddressableStorage viaFirst = first.cas("main", Storage.cas(store));
    ContentAddressableStorage viaSecond = second.cas("main", Storage.cas(store));

    Digest digest = viaFirst.put(bytes("twice"));
    viaFirst.get(digest);
    viaFirst.get(digest);
    viaSecond.get(digest);

    Exposition one = scrape(first);
    Exposition two = scrape(second);
    assertThat(one.value("hearth_cas_hits_total", "instance", "main")).isEqualTo(2);
    assertThat(two.value("hearth_cas_hits_total", "instance", "main")).isEqualTo(1);
    assertThat(one.value("hearth_cas_bytes_written_total", "instance", "main")).isEqualTo(5);
    assertThat(two.value("hearth_cas_bytes_written_total", "instance", "main")).isZero();
    assertThat(one.samples("hearth_cas_entries")).hasSize(1);
    assertThat(two.samples("hearth_cas_entries")).isEmpty();
  }

  @Test
  void refusalsAreCountedByServerReasonAndPermission() {
    Metrics metrics = Metrics.newBuilder().build();
    var counter = metrics.refusalCounter("main");

    counter.accept(
        new build.hearth.spi.security.Refusal(
            build.hearth.spi.security.RefusalReason.PERMISSION_DENIED,
            build.hearth.spi.security.Permission.WRITE_ACTION_CACHE,
            "",
            "token:dev",
            null,
            "token:dev lacks \"writeActionCache\""));
    counter.accept(
        new build.hearth.spi.security.Refusal(
            build.hearth.spi.security.RefusalReason.UNKNOWN_TOKEN, null, null, null, null, "x"));

    assertThat(metrics.scrape())
        .contains(
            "hearth_auth_refusals_total{permission=\"writeActionCache\",reason=\"permission_denied\",server=\"main\"} 1")
        .contains(
            "hearth_auth_refusals_total{permission=\"none\",reason=\"unknown_token\",server=\"main\"} 1")
        .doesNotContain("token:dev");
  }
}
