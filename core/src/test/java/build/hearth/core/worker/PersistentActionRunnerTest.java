package build.hearth.core.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import build.bazel.remote.execution.v2.Action;
import build.bazel.remote.execution.v2.Command;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.FileNode;
import build.bazel.remote.execution.v2.NodeProperties;
import build.bazel.remote.execution.v2.NodeProperty;
import build.bazel.remote.execution.v2.OutputFile;
import build.bazel.remote.execution.v2.Platform;
import build.hearth.api.Digest;
import build.hearth.api.HearthException;
import build.hearth.api.PoolStats;
import build.hearth.api.RetirementReason;
import build.hearth.api.StatusCode;
import build.hearth.core.config.SandboxConfig;
import build.hearth.core.config.WorkerConfig;
import build.hearth.core.execution.Cancellation;
import build.hearth.core.persistent.ScriptedTools;
import build.hearth.core.process.ProcessLauncher;
import build.hearth.spi.worker.ActionOutcome;
import build.hearth.spi.worker.ExecutionTask;
import build.hearth.testing.FakeClock;
import com.google.protobuf.ByteString;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Persistent-worker actions through {@link LocalActionRunner}, on real tool processes: the
 * scriptable test tool, whose requests are the lines of the action's flag file.
 */
class PersistentActionRunnerTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(60);

  @TempDir Path tempDir;

  private WorkerTestSupport support;
  private final FakeClock clock = new FakeClock();
  private final List<LocalActionRunner> runners = new ArrayList<>();
  private final ExecutorService background = Executors.newCachedThreadPool();

  @BeforeEach
  void setUp() {
    support = new WorkerTestSupport(tempDir);
  }

  // Directories a test made outside @TempDir, deleted after the runners that used them closed.
  private final List<Path> directories = new ArrayList<>();

  @AfterEach
  void tearDown() throws IOException {
    background.shutdownNow();
    runners.forEach(LocalActionRunner::close);
    support.close();
    for (Path directory : directories) {
      try (java.util.stream.Stream<Path> walk = Files.walk(directory)) {
        for (Path path : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
          path.toFile().setWritable(true);
          Files.deleteIfExists(path);
        }
      }
    }
  }

  private LocalActionRunner runner(String persistentWorkers) {
    return runner(persistentWorkers, SandboxConfig.OFF);
  }

  private LocalActionRunner runner(String persistentWorkers, SandboxConfig sandbox) {
    LocalActionRunner runner =
        support
            .runnerBuilder()
            .clock(clock)
            .sandbox(sandbox)
            .persistentWorkers(
                WorkerConfig.parseStandalone(
                        "{\"persistentWorkers\": " + persistentWorkers + "}", "worker.json")
                    .persistentWorkers())
            .build();
    runners.add(runner);
    return runner;
  }

  /** An action of key {@code key} whose flag file holds {@code script}, one argument a line. */
  private final class ActionSpec {
    String key = "scripted";
    String protocol = "";
    boolean multiplex;
    List<String> toolFlags = new ArrayList<>();
    List<String> script = new ArrayList<>();
    List<FileNode> extraInputs = new ArrayList<>();
    List<String> outputs = new ArrayList<>();
    // When set, the command line's startup part instead of the scripted tool's own java command.
    List<String> startup;

    ActionSpec withStartup(List<String> startup) {
      this.startup = startup;
      return this;
    }

    ActionSpec script(String... lines) {
      script.addAll(List.of(lines));
      return this;
    }

    ExecutionTask task() {
      List<String> arguments =
          new ArrayList<>(startup != null ? startup : ScriptedTools.javaCommand());
      if (protocol.equals("json")) {
        arguments.add("--protocol=json");
      }
      if (multiplex) {
        arguments.add("--multiplex");
      }
      arguments.addAll(toolFlags);
      arguments.add("@args.txt");
      Directory.Builder root = Directory.newBuilder();
      List<FileNode> files = new ArrayList<>(extraInputs);
      files.add(support.file("args.txt", String.join("\n", script) + "\n", false));
      files.sort((a, b) -> a.getName().compareTo(b.getName()));
      root.addAllFiles(files);
      Digest inputRoot = support.put(root.build());
      Command command =
          Command.newBuilder().addAllArguments(arguments).addAllOutputPaths(outputs).build();
      Platform.Builder platform =
          Platform.newBuilder().addProperties(property("persistentWorkerKey", key));
      if (!protocol.isEmpty()) {
        platform.addProperties(property("persistentWorkerProtocol", protocol));
      }
      if (multiplex) {
        platform.addProperties(property("persistentWorkerMultiplex", "true"));
      }
      Digest commandDigest = support.cas().put(command.toByteString());
      Action action =
          Action.newBuilder()
              .setCommandDigest(commandDigest.toProto())
              .setInputRootDigest(inputRoot.toProto())
              .setPlatform(platform)
              .build();
      Digest actionDigest = support.cas().put(action.toByteString());
      return new ExecutionTask("", actionDigest, action, command, TIMEOUT);
    }
  }

  private static Platform.Property property(String name, String value) {
    return Platform.Property.newBuilder().setName(name).setValue(value).build();
  }

  private ActionSpec action(String... script) {
    return new ActionSpec().script(script);
  }

  private String stderr(ActionOutcome outcome) {
    return support.text(outcome.result().getStderrDigest());
  }

  private String output(ActionOutcome outcome, String path) {
    for (OutputFile file : outcome.result().getOutputFilesList()) {
      if (file.getPath().equals(path)) {
        return support.text(file.getDigest());
      }
    }
    return null;
  }

  private static PoolStats.Counters totals(LocalActionRunner runner) {
    return runner.persistentWorkerStats().orElseThrow().totals();
  }

  @Test
  void servesSeveralActionsOnOneWarmProcessAndCollectsTheirOutputs() {
    LocalActionRunner runner = runner("{}");

    for (int i = 0; i < 3; i++) {
      ActionSpec spec =
          action("write", "out/result.txt", "result", Integer.toString(i), ";", "pid");
      spec.outputs.add("out/result.txt");
      ActionOutcome outcome = runner.run(spec.task(), new Cancellation());
      assertThat(outcome.ran()).as(outcome.message()).isTrue();
      assertThat(outcome.result().getExitCode()).isZero();
      assertThat(output(outcome, "out/result.txt")).isEqualTo("result " + i);
    }

    PoolStats.Counters totals = totals(runner);
    assertThat(totals.spawns()).isEqualTo(1);
    assertThat(totals.requests()).isEqualTo(3);
    assertThat(totals.coldRequests()).isEqualTo(1);
    assertThat(totals.warmRequests()).isEqualTo(2);
  }

  @Test
  void eachResultNamesItsProcessAndWhichOfItsRequestsItWas() throws Exception {
    LocalActionRunner runner = runner("{}");

    List<build.hearth.proto.execution.PersistentWorkerRun> runs = new java.util.ArrayList<>();
    for (int i = 0; i < 3; i++) {
      ActionOutcome outcome = runner.run(action("echo", "hello").task(), new Cancellation());
      assertThat(outcome.ran()).as(outcome.message()).isTrue();
      List<com.google.protobuf.Any> auxiliary =
          outcome.result().getExecutionMetadata().getAuxiliaryMetadataList();
      assertThat(auxiliary).hasSize(1);
      runs.add(auxiliary.get(0).unpack(build.hearth.proto.execution.PersistentWorkerRun.class));
    }

    // The first request started the process (cold); the next two found it warm.
    assertThat(runs)
        .extracting(build.hearth.proto.execution.PersistentWorkerRun::getRequestNumber)
        .containsExactly(1L, 2L, 3L);
    assertThat(runs)
        .extracting(build.hearth.proto.execution.PersistentWorkerRun::getPid)
        .containsOnly(runs.get(0).getPid());
    assertThat(runs.get(0).getPid()).isPositive();
  }

  @Test
  void toolProcessesStartThroughTheRunnersOneLauncherOverPipes() {
    LocalActionRunner runner = runner("{}");

    ActionOutcome outcome = runner.run(action("echo", "hello").task(), new Cancellation());

    assertThat(outcome.ran()).as(outcome.message()).isTrue();
    assertThat(support.launcher.requests).hasSize(1);
    ProcessLauncher.Request request = support.launcher.requests.get(0);
    assertThat(request.arguments()).last().isEqualTo("--persistent_worker");
    assertThat(request.stdin()).isEqualTo(ProcessBuilder.Redirect.PIPE);
    assertThat(request.stdout()).isEqualTo(ProcessBuilder.Redirect.PIPE);
    assertThat(request.stderr().type()).isEqualTo(ProcessBuilder.Redirect.Type.APPEND);
  }

  @Test
  void reportsIdleWarmProcessesPerKeyForTheScheduler() {
    LocalActionRunner runner = runner("{}");
    List<Map<String, Integer>> reports = new java.util.concurrent.CopyOnWriteArrayList<>();
    runner.onWarmProcessesChanged(reports::add);
    Path gate = tempDir.resolve("gate");
    ExecutionTask blocked = action("wait-for", gate.toString()).task();

    CompletableFuture<ActionOutcome> running =
        CompletableFuture.supplyAsync(() -> runner.run(blocked, new Cancellation()), background);
    await().atMost(TIMEOUT).until(() -> totals(runner).requests() == 1);
    assertThat(reports.get(reports.size() - 1)).doesNotContainKey("scripted");
    touch(gate);
    assertThat(running.join().ran()).isTrue();

    // The scheduler learns of the idle process before the runner returns the action's outcome.
    assertThat(reports.get(reports.size() - 1)).containsEntry("scripted", 1);
    assertThat(reports.get(0)).isEmpty();
  }

  @Test
  void toolProcessesRunSandboxedSeeingOnlyTheirOwnDirectory() throws IOException {
    assertThat(System.getProperty("user.name")).as("runs as root, as CI does").isEqualTo("root");
    LocalActionRunner runner = runner("{}", SandboxConfig.DEFAULT);
    // The sandbox binds only what every user could read: a copy of the tool's class path that is.
    List<String> startup = publicJavaCommand();
    Path hostTmpFile = Files.createTempFile("hearth-sandbox-test", ".txt");
    Path cache = tempDir.resolve("worker-cache");
    // A command line naming the worker's cache does not open it: only what every user may read is
    // bound.
    startup.add(1, "-Dhearth.test.ignored=" + cache);
    try {
      ActionOutcome outcome =
          runner.run(
              action(
                      "pid",
                      ";",
                      "exists",
                      hostTmpFile.toString(),
                      ";",
                      "exists",
                      cache.toString(),
                      ";",
                      "exists",
                      "../..",
                      ";",
                      "write",
                      "out/w.txt",
                      "x",
                      ";",
                      "echo",
                      "ran")
                  .withStartup(startup)
                  .task(),
              new Cancellation());
      assertThat(outcome.ran()).as(outcome.message()).isTrue();
      // Another key's process: its own directory, invisible to the first.
      ActionSpec other = action("cwd").withStartup(startup);
      other.key = "other";
      ActionOutcome second = runner.run(other.task(), new Cancellation());
      assertThat(second.ran()).as(second.message()).isTrue();
      Path otherDirectory = Path.of(stderr(second));
      ActionOutcome third =
          runner.run(
              action("exists", otherDirectory.toString(), ";", "exists", ".", ";", "echo", "ran")
                  .withStartup(startup)
                  .task(),
              new Cancellation());

      // Not pid 1 (bwrap's init is), but a small pid of its own namespace; no host /tmp file, no
      // worker cache; its directory's parents exist (as empty directories); it may write there.
      String[] lines = stderr(outcome).split("\n");
      assertThat(Long.parseLong(lines[0])).isLessThan(10);
      assertThat(List.of(lines).subList(1, lines.length)).containsExactly("no", "no", "yes", "ran");
      assertThat(stderr(third)).isEqualTo("no\nyes\nran");
      assertThat(totals(runner).spawns()).isEqualTo(2);
      // Started through bwrap, as nobody.
      ProcessLauncher.Request request = support.launcher.requests.get(0);
      assertThat(request.arguments()).contains("--unshare-net", "--reuid=65534");
    } finally {
      Files.deleteIfExists(hostTmpFile);
    }
  }

  /**
   * The scripted tool's java command with its class path copied where every user may read it (under
   * this module's target directory), deleted after the test.
   */
  private List<String> publicJavaCommand() throws IOException {
    Path copy = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "public-tool-");
    directories.add(copy);
    Files.setPosixFilePermissions(
        copy, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
    List<String> command = new ArrayList<>(ScriptedTools.javaCommand());
    int classPath = command.indexOf("-cp") + 1;
    List<String> entries = new ArrayList<>();
    int n = 0;
    for (String entry : command.get(classPath).split(java.io.File.pathSeparator)) {
      Path source = Path.of(entry);
      Path target = copy.resolve(n++ + "-" + source.getFileName());
      try (java.util.stream.Stream<Path> walk = Files.walk(source)) {
        for (Path path : walk.toList()) {
          Path to = target.resolve(source.relativize(path).toString());
          if (Files.isDirectory(path)) {
            Files.createDirectories(to);
          } else {
            Files.copy(path, to);
          }
          Files.setPosixFilePermissions(
              to,
              java.nio.file.attribute.PosixFilePermissions.fromString(
                  Files.isDirectory(path) ? "rwxr-xr-x" : "rw-r--r--"));
        }
      }
      entries.add(target.toString());
    }
    command.set(classPath, String.join(java.io.File.pathSeparator, entries));
    return command;
  }

  @Test
  void speaksJsonWhenThePlatformSaysSo() {
    LocalActionRunner runner = runner("{}");
    ActionSpec spec = action("echo", "over", "json");
    spec.protocol = "json";

    ActionOutcome outcome = runner.run(spec.task(), new Cancellation());

    assertThat(outcome.ran()).as(outcome.message()).isTrue();
    assertThat(stderr(outcome)).isEqualTo("over json");
    assertThat(runner.persistentWorkerStats().orElseThrow().keys().get(0).protocol().label())
        .isEqualTo("json");
  }

  @Test
  void routesSixteenConcurrentMultiplexRequestsByIdIntoTheirOwnSandboxes() {
    LocalActionRunner runner = runner("{\"maxMultiplexRequests\": 16}");
    Path gate = tempDir.resolve("gate");
    List<CompletableFuture<ActionOutcome>> outcomes = new ArrayList<>();
    for (int i = 0; i < 16; i++) {
      ActionSpec spec =
          action(
              "wait-for",
              gate.toString(),
              ";",
              "write",
              "out.txt",
              "request",
              Integer.toString(i),
              ";",
              "echo",
              "answer",
              Integer.toString(i));
      spec.multiplex = true;
      spec.outputs.add("out.txt");
      ExecutionTask task = spec.task();
      outcomes.add(
          CompletableFuture.supplyAsync(() -> runner.run(task, new Cancellation()), background));
    }
    // All sixteen are in flight on the process at once before any may answer.
    await()
        .atMost(TIMEOUT)
        .until(
            () ->
                runner.persistentWorkerStats().orElseThrow().keys().stream()
                            .mapToInt(PoolStats.KeyStats::busy)
                            .sum()
                        == 1
                    && totals(runner).requests() == 16);
    touch(gate);

    for (int i = 0; i < 16; i++) {
      ActionOutcome outcome = outcomes.get(i).join();
      assertThat(outcome.ran()).as(outcome.message()).isTrue();
      assertThat(stderr(outcome)).isEqualTo("released\nanswer " + i);
      assertThat(output(outcome, "out.txt")).isEqualTo("request " + i);
    }
    assertThat(totals(runner).spawns()).isEqualTo(1);
  }

  @Test
  void cancellingSendsCancelToACancellableTool() {
    LocalActionRunner runner = runner("{\"tools\": {\"scripted-tool\": {\"cancellable\": true}}}");
    ActionSpec spec = action("sleep-until-cancel");
    spec.toolFlags.add("--cancellable");
    ExecutionTask task = withTool(spec.task(), "scripted-tool");
    Cancellation cancellation = new Cancellation();

    CompletableFuture<ActionOutcome> outcome =
        CompletableFuture.supplyAsync(() -> runner.run(task, cancellation), background);
    await().atMost(TIMEOUT).until(() -> totals(runner).requests() == 1);
    cancellation.cancel();

    ActionOutcome cancelled = outcome.join();
    assertThat(cancelled.code()).isEqualTo(StatusCode.CANCELLED);
    assertThat(stderr(cancelled)).isEqualTo("cancelled");
    // The tool answered the cancel, so its process stays to serve the next request.
    PoolStats stats = runner.persistentWorkerStats().orElseThrow();
    assertThat(stats.totals().retiredTotal()).isZero();
    assertThat(stats.alive()).isEqualTo(1);
  }

  @Test
  void aToolTheConfigurationDefinesStartsWithItsOwnCommand() {
    String command =
        ScriptedTools.javaCommand().stream()
            .map(word -> "\"" + word.replace("\\", "\\\\") + "\"")
            .collect(java.util.stream.Collectors.joining(", "));
    LocalActionRunner runner =
        runner("{\"tools\": {\"server-tool\": {\"command\": [" + command + "]}}}");
    ActionSpec spec = action("echo", "served by the worker's own tool");
    // The client's command names a program this machine does not have; the worker's wins.
    spec.startup = List.of("/opt/client-only/bin/tool");

    ActionOutcome outcome = runner.run(withTool(spec.task(), "server-tool"), new Cancellation());

    assertThat(outcome.ran()).as(outcome.message()).isTrue();
    assertThat(stderr(outcome)).isEqualTo("served by the worker's own tool");
    assertThat(runner.persistentWorkerStats().orElseThrow().keys().get(0).tool())
        .isEqualTo("server-tool");
  }

  @Test
  void cancellingKillsAToolThatCannotCancel() {
    LocalActionRunner runner = runner("{}");
    Cancellation cancellation = new Cancellation();
    ExecutionTask task = action("sleep-until-cancel").task();

    CompletableFuture<ActionOutcome> outcome =
        CompletableFuture.supplyAsync(() -> runner.run(task, cancellation), background);
    await().atMost(TIMEOUT).until(() -> totals(runner).requests() == 1);
    cancellation.cancel();

    assertThat(outcome.join().code()).isEqualTo(StatusCode.CANCELLED);
    await().atMost(TIMEOUT).until(() -> totals(runner).retired(RetirementReason.CANCELLED) == 1);
    assertThat(runner.persistentWorkerStats().orElseThrow().alive()).isZero();
  }

  @Test
  void garbageOnStdoutRetiresTheProcessAndTheActionSucceedsOnAFreshOne() {
    LocalActionRunner runner = runner("{}");
    Path marker = tempDir.resolve("garbage-marker");

    ActionOutcome outcome =
        runner.run(action("garbage-once", marker.toString()).task(), new Cancellation());

    assertThat(outcome.ran()).as(outcome.message()).isTrue();
    assertThat(stderr(outcome)).isEqualTo("recovered");
    PoolStats.Counters totals = totals(runner);
    assertThat(totals.spawns()).isEqualTo(2);
    assertThat(totals.retired(RetirementReason.CRASH)).isEqualTo(1);
  }

  @Test
  void aCrashMidRequestIsRetriedOnceAndASecondCrashFailsWithTheToolsStderr() {
    LocalActionRunner runner = runner("{}");

    ActionOutcome recovered =
        runner.run(
            action("crash-once", tempDir.resolve("crash-marker").toString()).task(),
            new Cancellation());
    assertThat(recovered.ran()).as(recovered.message()).isTrue();

    ActionOutcome failed = runner.run(action("crash").task(), new Cancellation());
    assertThat(failed.code()).isEqualTo(StatusCode.INTERNAL);
    assertThat(failed.message())
        .contains("failed the request twice")
        .contains("crashing on purpose");
    assertThat(totals(runner).retired(RetirementReason.CRASH)).isEqualTo(3);
  }

  @Test
  void aToolThatExitsAtStartUpFailsClearlyWithoutHanging() {
    LocalActionRunner runner = runner("{}");
    ActionSpec spec = action("echo", "never");
    spec.toolFlags.add("--startup-stderr=missing licence file");
    spec.toolFlags.add("--exit-at-start=7");

    ActionOutcome outcome = runner.run(spec.task(), new Cancellation());

    assertThat(outcome.code()).isEqualTo(StatusCode.INTERNAL);
    assertThat(outcome.message()).contains("7").contains("missing licence file");
  }

  @Test
  void aToolWhoseProgramIsMissingIsAFailedPreconditionNamingIt() {
    LocalActionRunner runner = runner("{}");
    ActionSpec spec = action("echo", "never");
    spec.startup = List.of("./no-such-tool");

    assertThatThrownBy(() -> runner.run(spec.task(), new Cancellation()))
        .isInstanceOfSatisfying(
            HearthException.class,
            e -> assertThat(e.code()).isEqualTo(StatusCode.FAILED_PRECONDITION))
        .hasMessageContaining("no-such-tool");
  }

  @Test
  void idleProcessesRetireAfterTheIdleTimeoutOnTheInjectedClock() {
    LocalActionRunner runner = runner("{\"idleTimeout\": \"5m\"}");
    assertThat(runner.run(action("echo", "hi").task(), new Cancellation()).ran()).isTrue();

    clock.advance(Duration.ofMinutes(4));
    assertThat(runner.persistentWorkerStats().orElseThrow().alive()).isEqualTo(1);
    clock.advance(Duration.ofMinutes(2));

    await().atMost(TIMEOUT).until(() -> totals(runner).retired(RetirementReason.IDLE) == 1);
    await().atMost(TIMEOUT).until(() -> runner.persistentWorkerStats().orElseThrow().alive() == 0);
  }

  @Test
  void neverRunsMoreProcessesOfAKeyThanItsCapAndQueuesTheRest() {
    LocalActionRunner runner = runner("{\"maxProcessesPerKey\": 2}");
    Path gate = tempDir.resolve("gate");
    List<CompletableFuture<ActionOutcome>> outcomes = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      ExecutionTask task = action("wait-for", gate.toString()).task();
      outcomes.add(
          CompletableFuture.supplyAsync(() -> runner.run(task, new Cancellation()), background));
    }
    await()
        .atMost(TIMEOUT)
        .until(() -> runner.persistentWorkerStats().orElseThrow().waiting() == 3);
    assertThat(runner.persistentWorkerStats().orElseThrow().alive()).isEqualTo(2);
    touch(gate);

    outcomes.forEach(o -> assertThat(o.join().ran()).isTrue());
    PoolStats stats = runner.persistentWorkerStats().orElseThrow();
    assertThat(stats.maxAlive()).isEqualTo(2);
    assertThat(stats.totals().spawns()).isEqualTo(2);
    assertThat(stats.totals().waitsAtCap()).isEqualTo(3);
  }

  @Test
  void theGlobalCapEvictsAnIdleProcessOfAnotherKey() {
    LocalActionRunner runner = runner("{\"maxProcesses\": 1}");
    ActionSpec first = action("echo", "a");
    first.key = "key-a";
    ActionSpec second = action("echo", "b");
    second.key = "key-b";

    assertThat(runner.run(first.task(), new Cancellation()).ran()).isTrue();
    assertThat(runner.run(second.task(), new Cancellation()).ran()).isTrue();

    PoolStats stats = runner.persistentWorkerStats().orElseThrow();
    assertThat(stats.maxAlive()).isEqualTo(1);
    assertThat(stats.totals().evictions()).isEqualTo(1);
    assertThat(stats.totals().spawns()).isEqualTo(2);
  }

  @Test
  void retiresAProcessAfterItsMaximumNumberOfRequests() {
    LocalActionRunner runner = runner("{\"maxRequestsPerProcess\": 2}");

    for (int i = 0; i < 3; i++) {
      assertThat(runner.run(action("echo", "hi").task(), new Cancellation()).ran()).isTrue();
    }

    PoolStats.Counters totals = totals(runner);
    assertThat(totals.retired(RetirementReason.MAX_REQUESTS)).isEqualTo(1);
    assertThat(totals.spawns()).isEqualTo(2);
  }

  @Test
  void retiresAProcessWhoseResidentMemoryIsOverTheLimit() {
    LocalActionRunner runner = runner("{\"memoryLimit\": \"200MiB\"}");

    assertThat(runner.run(action("echo", "small").task(), new Cancellation()).ran()).isTrue();
    assertThat(totals(runner).retired(RetirementReason.MEMORY)).isZero();
    assertThat(runner.run(action("allocate", "300").task(), new Cancellation()).ran()).isTrue();

    assertThat(totals(runner).retired(RetirementReason.MEMORY)).isEqualTo(1);
  }

  @Test
  void aChangedToolFileMarkedAsToolInputRetiresTheOldProcess() {
    LocalActionRunner runner = runner("{}");
    ActionSpec v1 = action("read", "tool.cfg");
    v1.extraInputs.add(toolInput("tool.cfg", "version 1"));
    ActionSpec v2 = action("read", "tool.cfg");
    v2.extraInputs.add(toolInput("tool.cfg", "version 2"));

    assertThat(stderr(runner.run(v1.task(), new Cancellation()))).isEqualTo("version 1");
    assertThat(stderr(runner.run(v2.task(), new Cancellation()))).isEqualTo("version 2");

    PoolStats stats = runner.persistentWorkerStats().orElseThrow();
    assertThat(stats.totals().retired(RetirementReason.TOOL_CHANGE)).isEqualTo(1);
    assertThat(stats.totals().spawns()).isEqualTo(2);
  }

  @Test
  void withoutToolMarksTheFilesTheStartupCommandNamesKeyTheProcess() throws IOException {
    LocalActionRunner runner = runner("{}");
    ActionSpec v1 = wrapped("# version 1");
    ActionSpec v2 = wrapped("# version 2");

    assertThat(runner.run(v1.task(), new Cancellation()).ran()).isTrue();
    assertThat(runner.run(v1.task(), new Cancellation()).ran()).isTrue();
    assertThat(runner.run(v2.task(), new Cancellation()).ran()).isTrue();

    PoolStats stats = runner.persistentWorkerStats().orElseThrow();
    assertThat(stats.totals().spawns()).isEqualTo(2);
    assertThat(stats.totals().retired(RetirementReason.TOOL_CHANGE)).isEqualTo(1);
    assertThat(stats.keys()).allSatisfy(k -> assertThat(k.clientKey()).isEqualTo("scripted"));
  }

  /** An action started through an executable wrapper script in its inputs, as Bazel rules do. */
  private ActionSpec wrapped(String version) {
    String script =
        "#!/bin/sh\n"
            + version
            + "\nexec "
            + String.join(" ", quoted(ScriptedTools.javaCommand()))
            + " \"$@\"\n";
    ActionSpec spec = new ActionSpec();
    spec.startup = List.of("./tool.sh");
    spec.script("echo", "wrapped");
    spec.extraInputs.add(support.file("tool.sh", script, true));
    return spec;
  }

  private static List<String> quoted(List<String> words) {
    return words.stream().map(w -> "'" + w + "'").toList();
  }

  @Test
  void aStrayFileOrAnInputRewrittenInPlaceNeverReachesTheNextRequest() {
    LocalActionRunner runner = runner("{}");
    ActionSpec first =
        action(
            "write",
            "stray.txt",
            "left behind",
            ";",
            "overwrite",
            "in.txt",
            "tampered",
            ";",
            "write",
            "out.txt",
            "first");
    first.extraInputs.add(support.file("in.txt", "pristine", false));
    first.outputs.add("out.txt");
    first.outputs.add("stray.txt");
    ActionOutcome one = runner.run(first.task(), new Cancellation());
    assertThat(one.ran()).as(one.message()).isTrue();

    ActionSpec second =
        action("exists", "stray.txt", ";", "read", "in.txt", ";", "exists", "out.txt");
    second.extraInputs.add(support.file("in.txt", "pristine", false));
    second.outputs.add("stray.txt");
    second.outputs.add("out.txt");
    ActionOutcome two = runner.run(second.task(), new Cancellation());

    assertThat(two.ran()).as(two.message()).isTrue();
    assertThat(stderr(two)).isEqualTo("no\npristine\nno");
    assertThat(two.result().getOutputFilesList()).isEmpty();
    assertThat(totals(runner).warmRequests()).isEqualTo(1);
  }

  @Test
  void actionsWithoutAFlagFileOrOutsideTheAllowListRunAsOrdinaryProcesses() {
    LocalActionRunner runner = runner("{\"allow\": {\"keys\": [\"allowed\"]}}");
    ActionSpec notAllowed = action("echo", "hi");
    notAllowed.key = "other";
    Command plain =
        Command.newBuilder()
            .addArguments("/bin/sh")
            .addArguments("-c")
            .addArguments("echo plain")
            .build();
    ExecutionTask noFlagFile =
        withPlatform(
            support.task(plain),
            Platform.newBuilder()
                .addProperties(property("persistentWorkerKey", "allowed"))
                .build());

    ActionOutcome outcome = runner.run(noFlagFile, new Cancellation());
    assertThat(support.text(outcome.result().getStdoutDigest())).isEqualTo("plain\n");
    // The scripted tool refuses to run without --persistent_worker: it ran as a plain process.
    ActionOutcome refused = runner.run(notAllowed.task(), new Cancellation());
    assertThat(refused.result().getExitCode()).isNotZero();

    assertThat(totals(runner).requests()).isZero();
  }

  private ExecutionTask withTool(ExecutionTask task, String tool) {
    Platform platform =
        task.action().getPlatform().toBuilder()
            .addProperties(property("persistentWorkerTool", tool))
            .build();
    return withPlatform(task, platform);
  }

  private ExecutionTask withPlatform(ExecutionTask task, Platform platform) {
    Action action = task.action().toBuilder().setPlatform(platform).build();
    return new ExecutionTask(
        "", support.cas().put(action.toByteString()), action, task.command(), task.timeout());
  }

  private FileNode toolInput(String name, String text) {
    return support.file(name, text, false).toBuilder()
        .setNodeProperties(
            NodeProperties.newBuilder()
                .addProperties(NodeProperty.newBuilder().setName("bazel_tool_input")))
        .build();
  }

  private static void touch(Path path) {
    try {
      Files.write(path, ByteString.EMPTY.toByteArray());
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  static Map<String, String> noEnvironment() {
    return Map.of();
  }
}
