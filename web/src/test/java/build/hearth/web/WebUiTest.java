package build.hearth.web;

import static org.assertj.core.api.Assertions.assertThat;

import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.ExecuteResponse;
import build.bazel.remote.execution.v2.FileNode;
import build.bazel.remote.execution.v2.OutputDirectory;
import build.bazel.remote.execution.v2.Tree;
import build.hearth.api.ContentAddressableStorage;
import build.hearth.api.Digest;
import build.hearth.api.PoolLimits;
import build.hearth.api.PoolStats;
import build.hearth.api.RetirementReason;
import build.hearth.api.ToolProtocol;
import build.hearth.core.Storage;
import build.hearth.core.ops.WorkerReports;
import build.hearth.core.storage.MemoryBlobStoreProvider;
import build.hearth.spi.security.Permission;
import build.hearth.spi.storage.StoreContext;
import build.hearth.spi.storage.StoreSettings;
import build.hearth.spi.transport.HttpRoutes;
import com.google.protobuf.ByteString;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/** The pages without a browser: what each shows, to whom, and what it refuses. */
class WebUiTest {
  private static final Instant NOW = Instant.parse("2026-12-07T12:00:00Z");
  private static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);

  private final ContentAddressableStorage cas =
      Storage.cas(
          new MemoryBlobStoreProvider()
              .create(
                  StoreContext.newBuilder("cas", StoreSettings.of("blobStores.cas", Map.of()))
                      .build()));
  private final RecentActions recent = RecentActions.create(100, 1 << 20, CLOCK);
  private final WorkerReports reports = new WorkerReports(CLOCK);
  private final WebUi ui =
      WebUi.newBuilder(recent, ActionLinks.of(""))
          .instance("", cas, Optional.empty())
          .instance("team", cas, Optional.empty())
          .workerReports(reports)
          .clock(CLOCK)
          .build();

  private static final HttpRoutes.Caller READ_DEFAULT_ONLY =
      (permission, instance) -> permission == Permission.READ && instance.isEmpty();

  private static String actionPath(Digest action) {
    return "/ui/action/" + action.hash() + "/" + action.sizeBytes();
  }

  private String page(String path, String query, HttpRoutes.Caller caller, int status) {
    HttpRoutes.Response response = ui.get(path, query, caller).orElseThrow();
    String body = new String(response.body(), StandardCharsets.UTF_8);
    assertThat(response.status()).as(body).isEqualTo(status);
    assertThat(response.contentType()).isEqualTo("text/html; charset=utf-8");
    return body;
  }

  @Test
  void theOverviewShowsPersistentWorkersByKeyWithWarmAndColdRequests() {
    PoolStats.Counters counters =
        new PoolStats.Counters(
            2,
            0,
            9,
            7,
            2,
            0,
            0,
            0,
            0,
            Map.of(RetirementReason.MAX_REQUESTS, 1L),
            9,
            Duration.ofSeconds(3));
    PoolStats.ProcessStats process =
        new PoolStats.ProcessStats(
            4242,
            PoolStats.ProcessState.IDLE,
            0,
            5,
            OptionalLong.of(50L << 20),
            NOW.minusSeconds(120),
            NOW.minusSeconds(7),
            Path.of("/tmp/p"),
            Optional.empty());
    PoolStats.KeyStats key =
        new PoolStats.KeyStats(
            "javac-<17>",
            "javac",
            "abc",
            ToolProtocol.PROTO,
            false,
            PoolLimits.DEFAULTS,
            0,
            1,
            0,
            0,
            0,
            1,
            counters,
            List.of(process));
    PoolStats pool = new PoolStats(NOW, 4, 1, 1, 0, counters, List.of(key));
    reports.update(new WorkerReports.Report("w1", "main", true, NOW, Optional.of(pool)));

    String body = page("/ui/", "", HttpRoutes.Caller.ANYONE, 200);

    assertThat(body)
        .contains("javac-&lt;17&gt;")
        .doesNotContain("javac-<17>")
        .contains("<td>7</td><td>2</td>") // warm, cold
        .contains("max_requests 1")
        .contains("pid 4242 idle, 5 requests, 50.0 MiB, age 2 min 0 s, idle 7.0 s");
  }

  @Test
  void theOverviewShowsEachWorkersSlotsAndPropertiesAndEachSchedulersWaitTimes() {
    build.hearth.core.scheduler.Scheduler<String, String> scheduler =
        build.hearth.core.scheduler.Scheduler.newBuilder()
            .callbackExecutor(Runnable::run)
            .expiryCheckInterval(Duration.ZERO)
            .build();
    try {
      scheduler.connect(
          build.hearth.spi.worker.WorkerSpec.builder("w<1>")
              .slots(3)
              .property("OSFamily", "linux")
              .property("pool", "b", "a")
              .build(),
          assignment -> {});
      // One action holds one of the worker's three slots.
      scheduler.submit(
          build.hearth.core.scheduler.ActionRequest.of(
              "a", build.bazel.remote.execution.v2.Platform.getDefaultInstance(), "task"));
      reports.update(new WorkerReports.Report("w<1>", "main", false, NOW, Optional.empty()));
      // Queued 1, 2, ..., 20 seconds before starting on w<1>; one cached answer and one action of
      // an unknown worker do not count.
      for (int i = 1; i <= 20; i++) {
        recordRun("run " + i, "w<1>", i, false);
      }
      recordRun("cached", "w<1>", 1000, true);
      recordRun("elsewhere", "gone", 1000, false);
      WebUi withScheduler =
          WebUi.newBuilder(recent, ActionLinks.of(""))
              .instance("", cas, Optional.empty())
              .scheduler("main", scheduler)
              .workerReports(reports)
              .clock(CLOCK)
              .build();

      HttpRoutes.Response response =
          withScheduler.get("/ui/", "", HttpRoutes.Caller.ANYONE).orElseThrow();
      String body = new String(response.body(), StandardCharsets.UTF_8);

      assertThat(body)
          .contains(
              "<tr><td>w&lt;1&gt;</td><td>main</td><td>in-process</td><td>3</td><td>1</td>"
                  + "<td>OSFamily=linux, pool=a|b</td><td>no</td>")
          // p50 of 1..20 s is the 10th, p95 the 19th, over 20 actions.
          .contains("<td>10.0 s</td><td>19.0 s</td><td>20</td>");
    } finally {
      scheduler.close();
    }
  }

  private void recordRun(String name, String worker, long queuedSeconds, boolean cached) {
    com.google.protobuf.Timestamp start =
        com.google.protobuf.Timestamp.newBuilder().setSeconds(NOW.getEpochSecond()).build();
    com.google.protobuf.Timestamp queued =
        com.google.protobuf.Timestamp.newBuilder()
            .setSeconds(NOW.getEpochSecond() - queuedSeconds)
            .build();
    recent.record(
        "",
        Digest.of(ByteString.copyFromUtf8(name)),
        ExecuteResponse.newBuilder()
            .setCachedResult(cached)
            .setResult(
                ActionResult.newBuilder()
                    .setExecutionMetadata(
                        build.bazel.remote.execution.v2.ExecutedActionMetadata.newBuilder()
                            .setWorker(worker)
                            .setQueuedTimestamp(queued)
                            .setWorkerStartTimestamp(start)))
            .build());
  }

  @Test
  void withoutMetricsTheOverviewShowsOnlyTheReadableInstancesActions() {
    reports.update(new WorkerReports.Report("secret-worker", "main", true, NOW, Optional.empty()));
    Digest mine = Digest.of(ByteString.copyFromUtf8("mine"));
    Digest theirs = Digest.of(ByteString.copyFromUtf8("theirs"));
    recent.record("", mine, ExecuteResponse.getDefaultInstance());
    recent.record("team", theirs, ExecuteResponse.getDefaultInstance());

    String body = page("/ui/", "", READ_DEFAULT_ONLY, 200);

    assertThat(body)
        .contains(mine.hash().substring(0, 12))
        .doesNotContain(theirs.hash().substring(0, 12))
        .doesNotContain("secret-worker")
        .contains("metrics</code> permission");
    assertThat(page(actionPath(theirs), "instance=team", READ_DEFAULT_ONLY, 403))
        .contains("read permission on instance");
  }

  @Test
  void withoutACallerNothingIsShown() {
    HttpRoutes.Response response =
        ui.get("/ui/action/" + Digest.EMPTY.hash() + "/0", "").orElseThrow();
    assertThat(response.status()).isEqualTo(401);
    assertThat(ui.checksAccess("/ui/")).isTrue();
    assertThat(ui.checksAccess("/uix")).isFalse();
    assertThat(ui.get("/metrics", "", HttpRoutes.Caller.ANYONE)).isEmpty();
  }

  @Test
  void unknownInstancesActionsAndKindsAreNotFound() {
    Digest absent = Digest.of(ByteString.copyFromUtf8("absent"));
    assertThat(page(ActionLinks.of("").action("", absent), "", HttpRoutes.Caller.ANYONE, 404))
        .contains("no action " + absent.hash());
    assertThat(
            page(
                "/ui/action/" + absent.hash() + "/6",
                "instance=nope",
                HttpRoutes.Caller.ANYONE,
                404))
        .contains("no instance 'nope'");
    assertThat(page("/ui/shell/" + absent.hash() + "/6", "", HttpRoutes.Caller.ANYONE, 404))
        .contains("no page kind 'shell'");
    assertThat(page("/ui/blob/" + absent.hash() + "/6", "", HttpRoutes.Caller.ANYONE, 404))
        .isNotEmpty();
  }

  /**
   * A persistent-worker action of key {@code javac-1} whose result names the process that ran it.
   */
  private Digest persistentAction(String name, long pid, long requestNumber, boolean cached) {
    Digest command =
        cas.putMessage(
            build.bazel.remote.execution.v2.Command.newBuilder()
                .addArguments(name)
                .setPlatform(
                    build.bazel.remote.execution.v2.Platform.newBuilder()
                        .addProperties(
                            build.bazel.remote.execution.v2.Platform.Property.newBuilder()
                                .setName("persistentWorkerKey")
                                .setValue("javac-1")))
                .build());
    Digest action =
        cas.putMessage(
            build.bazel.remote.execution.v2.Action.newBuilder()
                .setCommandDigest(command.toProto())
                .setInputRootDigest(cas.putMessage(Directory.getDefaultInstance()).toProto())
                .build());
    recent.record(
        "",
        action,
        ExecuteResponse.newBuilder()
            .setCachedResult(cached)
            .setResult(
                ActionResult.newBuilder()
                    .setExecutionMetadata(
                        build.bazel.remote.execution.v2.ExecutedActionMetadata.newBuilder()
                            .setWorker("w1")
                            .addAuxiliaryMetadata(
                                com.google.protobuf.Any.pack(
                                    build.hearth.proto.execution.PersistentWorkerRun.newBuilder()
                                        .setPid(pid)
                                        .setRequestNumber(requestNumber)
                                        .build()))))
            .build());
    return action;
  }

  @Test
  void theRecentActionsAndTheActionPageSayWhetherAPersistentProcessWasWarmOrCold() {
    Digest cold = persistentAction("cold", 77, 1, false);
    Digest warm = persistentAction("warm", 77, 3, false);
    Digest cached = persistentAction("cached", 78, 5, true);

    String overview = page("/ui/", "", HttpRoutes.Caller.ANYONE, 200);
    String warmPage = page(actionPath(warm), "", HttpRoutes.Caller.ANYONE, 200);
    String coldPage = page(actionPath(cold), "", HttpRoutes.Caller.ANYONE, 200);
    String cachedPage = page(actionPath(cached), "", HttpRoutes.Caller.ANYONE, 200);

    assertThat(overview)
        .contains("<td>warm: process 77, request 3</td>")
        .contains("<td>cold: new process 77</td>")
        .doesNotContain("process 78");
    assertThat(warmPage).contains("key javac-1: warm: process 77, request 3<");
    assertThat(coldPage).contains("key javac-1: cold: new process 77<");
    assertThat(cachedPage)
        .contains("key javac-1: warm: process 78, request 5 (when the cached result was made)");
  }

  @Test
  void anOutputDirectoryGivenByItsRootDirectoryLinksToThatDirectory() {
    // REAPI lets a result name an output directory by its root Directory alone (DIRECTORY_ONLY),
    // without a Tree; the page links that directory instead of failing on the absent Tree.
    Digest root = cas.putMessage(Directory.getDefaultInstance());
    Digest tree = cas.putMessage(Tree.newBuilder().setRoot(Directory.getDefaultInstance()).build());
    Digest action =
        Digest.of("an action with two output directories".getBytes(StandardCharsets.UTF_8));
    recent.record(
        "",
        action,
        ExecuteResponse.newBuilder()
            .setResult(
                ActionResult.newBuilder()
                    .setExitCode(2)
                    .addOutputDirectories(
                        OutputDirectory.newBuilder()
                            .setPath("by-root")
                            .setRootDirectoryDigest(root.toProto()))
                    .addOutputDirectories(
                        OutputDirectory.newBuilder()
                            .setPath("by-tree")
                            .setTreeDigest(tree.toProto())))
            .build());

    String body = page(actionPath(action), "", HttpRoutes.Caller.ANYONE, 200);
    assertThat(body)
        .contains("/ui/directory/" + root.hash() + "/" + root.sizeBytes())
        .contains("/ui/tree/" + tree.hash() + "/" + tree.sizeBytes())
        .contains("by-root", "by-tree");
  }

  @Test
  void blobsAreToldApartAsTextOrBinaryAndTreesListTheirDirectories() {
    Digest text = cas.put(ByteString.copyFromUtf8("<script>alert(1)</script>"));
    Digest binary = cas.put(ByteString.copyFrom(new byte[] {1, 0, 2, (byte) 0xff}));
    assertThat(
            page(
                "/ui/blob/" + text.hash() + "/" + text.sizeBytes(),
                "",
                HttpRoutes.Caller.ANYONE,
                200))
        .contains("&lt;script&gt;alert(1)&lt;/script&gt;")
        .doesNotContain("<script>alert");
    assertThat(
            page(
                "/ui/blob/" + binary.hash() + "/" + binary.sizeBytes(),
                "",
                HttpRoutes.Caller.ANYONE,
                200))
        .contains("binary (4 B): not shown");
    HttpRoutes.Response raw =
        ui.get("/ui/raw/" + binary.hash() + "/4", "", HttpRoutes.Caller.ANYONE).orElseThrow();
    assertThat(raw.body()).containsExactly(1, 0, 2, (byte) 0xff);
    assertThat(raw.contentType()).isEqualTo("application/octet-stream");

    Directory child =
        Directory.newBuilder()
            .addFiles(FileNode.newBuilder().setName("a\"b.txt").setDigest(text.toProto()))
            .build();
    Digest tree =
        cas.putMessage(
            Tree.newBuilder().setRoot(Directory.getDefaultInstance()).addChildren(child).build());
    assertThat(
            page(
                "/ui/tree/" + tree.hash() + "/" + tree.sizeBytes(),
                "",
                HttpRoutes.Caller.ANYONE,
                200))
        .contains("2 directories")
        .contains(">a\"b.txt</a>")
        .contains("name=a%22b.txt");
    assertThat(
            page(
                "/ui/directory/" + text.hash() + "/" + text.sizeBytes(),
                "",
                HttpRoutes.Caller.ANYONE,
                400))
        .contains("is not a Directory");
  }
}
