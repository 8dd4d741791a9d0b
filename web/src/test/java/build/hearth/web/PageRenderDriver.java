package build.hearth.web;

import build.bazel.remote.execution.v2.Action;
import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.Command;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.ExecuteResponse;
import build.bazel.remote.execution.v2.ExecutedActionMetadata;
import build.bazel.remote.execution.v2.FileNode;
import build.hearth.api.ContentAddressableStorage;
import build.hearth.api.Digest;
import build.hearth.core.Storage;
import build.hearth.core.storage.MemoryBlobStoreProvider;
import build.hearth.spi.storage.StoreContext;
import build.hearth.spi.storage.StoreSettings;
import build.hearth.spi.transport.HttpRoutes;
import com.google.protobuf.ByteString;
import com.google.protobuf.Timestamp;
import java.time.Clock;
import java.util.Optional;

/**
 * A load driver, not a test: fills the recorder with 10,000 actions (a tenth of them failures with
 * 50 outputs each), then renders the overview and an action page many times and prints the mean
 * server time per page and the recorder's memory. Run it after {@code ./mvnw -B -o -q -pl web
 * test-compile}:
 *
 * <pre>
 * ./mvnw -B -o -q -pl web dependency:build-classpath -Dmdep.outputFile=/tmp/web.cp
 * java -cp web/target/test-classes:web/target/classes:$(cat /tmp/web.cp) \
 *     build.hearth.web.PageRenderDriver
 * </pre>
 */
public final class PageRenderDriver {
  private PageRenderDriver() {}

  public static void main(String[] args) {
    ContentAddressableStorage cas =
        Storage.cas(
            new MemoryBlobStoreProvider()
                .create(
                    StoreContext.newBuilder(
                            "cas", StoreSettings.of("blobStores.cas", java.util.Map.of()))
                        .build()));
    RecentActions recent =
        RecentActions.create(
            RecentActions.DEFAULT_MAX_ACTIONS, RecentActions.DEFAULT_MAX_BYTES, Clock.systemUTC());
    Digest input = cas.put(ByteString.copyFromUtf8("class A {}\n"));
    Directory.Builder root = Directory.newBuilder();
    for (int i = 0; i < 200; i++) {
      root.addFiles(
          FileNode.newBuilder()
              .setName(String.format("src/A%03d.java", i).replace('/', '_'))
              .setDigest(input.toProto()));
    }
    Digest rootDigest = cas.putMessage(root.build());
    Digest last = null;
    for (int i = 0; i < 10_000; i++) {
      Command command =
          Command.newBuilder()
              .addArguments("javac")
              .addArguments("-d")
              .addArguments("out" + i)
              .addOutputPaths("out" + i)
              .build();
      Action action =
          Action.newBuilder()
              .setCommandDigest(cas.putMessage(command).toProto())
              .setInputRootDigest(rootDigest.toProto())
              .build();
      Digest digest = cas.putMessage(action);
      boolean failure = i % 10 == 0;
      ActionResult.Builder result =
          ActionResult.newBuilder()
              .setExitCode(failure ? 1 : 0)
              .setStderrDigest(cas.put(ByteString.copyFromUtf8("error: " + i + "\n")).toProto())
              .setExecutionMetadata(
                  ExecutedActionMetadata.newBuilder()
                      .setWorker("w" + (i % 8))
                      .setQueuedTimestamp(Timestamp.newBuilder().setSeconds(1000 + i))
                      .setWorkerStartTimestamp(Timestamp.newBuilder().setSeconds(1001 + i))
                      .setExecutionStartTimestamp(Timestamp.newBuilder().setSeconds(1001 + i))
                      .setExecutionCompletedTimestamp(Timestamp.newBuilder().setSeconds(1003 + i))
                      .setWorkerCompletedTimestamp(Timestamp.newBuilder().setSeconds(1004 + i))
                      .addAuxiliaryMetadata(
                          com.google.protobuf.Any.pack(
                              build.hearth.proto.execution.PersistentWorkerRun.newBuilder()
                                  .setPid(4000 + i % 8)
                                  .setRequestNumber(1 + i / 8)
                                  .build())));
      for (int o = 0; failure && o < 50; o++) {
        result.addOutputFilesBuilder().setPath("out" + i + "/f" + o).setDigest(input.toProto());
      }
      recent.record("", digest, ExecuteResponse.newBuilder().setResult(result).build());
      last = digest;
    }
    // The overview as issue 17 first measured it (no scheduler), and with a scheduler of 8
    // connected, reporting workers: per-worker rows and wait times over the 10,000 actions.
    WebUi plain =
        WebUi.newBuilder(recent, ActionLinks.of("")).instance("", cas, Optional.empty()).build();
    build.hearth.core.scheduler.Scheduler<String, String> scheduler =
        build.hearth.core.scheduler.Scheduler.newBuilder().build();
    build.hearth.core.ops.WorkerReports reports =
        new build.hearth.core.ops.WorkerReports(Clock.systemUTC());
    for (int w = 0; w < 8; w++) {
      scheduler.connect(
          build.hearth.spi.worker.WorkerSpec.builder("w" + w)
              .slots(4)
              .property("OSFamily", "linux")
              .build(),
          assignment -> {});
      reports.update(
          new build.hearth.core.ops.WorkerReports.Report(
              "w" + w, "main", false, java.time.Instant.now(), Optional.empty()));
    }
    WebUi full =
        WebUi.newBuilder(recent, ActionLinks.of(""))
            .instance("", cas, Optional.empty())
            .scheduler("main", scheduler)
            .workerReports(reports)
            .build();
    String actionPath = ActionLinks.of("").action("", last);
    render("overview, no scheduler (reference)", plain, "/ui/");
    render("overview, 8 workers + wait times", full, "/ui/");
    render("action page", full, actionPath);
    scheduler.close();
    System.out.printf(
        "recent actions: %d kept, %d bytes counted (bound %d)%n",
        recent.size(), recent.retainedBytes(), recent.maxBytes());
  }

  private static void render(String name, WebUi ui, String path) {
    for (int warm = 0; warm < 200; warm++) {
      ui.get(path, "", HttpRoutes.Caller.ANYONE);
    }
    int runs = 1000;
    long start = System.nanoTime();
    int bytes = 0;
    for (int i = 0; i < runs; i++) {
      bytes = ui.get(path, "", HttpRoutes.Caller.ANYONE).orElseThrow().body().length;
    }
    double ms = (System.nanoTime() - start) / 1e6 / runs;
    System.out.printf("%-36s %.3f ms per page, %d bytes%n", name, ms, bytes);
  }
}
