package build.hearth.core.worker;

import static build.hearth.core.worker.WorkerTestSupport.env;
import static build.hearth.core.worker.WorkerTestSupport.sh;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.Command;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.DirectoryNode;
import build.bazel.remote.execution.v2.ExecutedActionMetadata;
import build.bazel.remote.execution.v2.FileNode;
import build.bazel.remote.execution.v2.OutputDirectory;
import build.bazel.remote.execution.v2.OutputFile;
import build.bazel.remote.execution.v2.Tree;
import build.hearth.api.Digest;
import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import build.hearth.core.Hearth;
import build.hearth.core.execution.Cancellation;
import build.hearth.core.process.ProcessTrees;
import build.hearth.spi.worker.ActionOutcome;
import build.hearth.spi.worker.ExecutionTask;
import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Running real processes through {@link LocalActionRunner}. */
class LocalActionRunnerTest {
  @TempDir Path tempDir;

  private WorkerTestSupport support;
  private LocalActionRunner runner;
  private final ExecutorService background = Executors.newCachedThreadPool();

  @BeforeEach
  void setUp() {
    support = new WorkerTestSupport(tempDir);
    runner = support.runnerBuilder().build();
  }

  @AfterEach
  void tearDown() throws IOException {
    background.shutdownNow();
    runner.close();
    support.close();
  }

  private ActionOutcome run(Command command) {
    return runner.run(support.task(command), new Cancellation());
  }

  @Test
  void uploadsOutputFilesAndDirectoriesAndReportsThem() throws InvalidProtocolBufferException {
    Digest inputs =
        support.put(
            Directory.newBuilder().addFiles(support.file("in.txt", "input bytes", false)).build());
    Command command =
        sh(
                "mkdir -p out/dir/sub && cat in.txt > out/a.txt && echo nested > out/dir/sub/b.txt",
                "out/a.txt",
                "out/dir")
            .build();

    ActionOutcome outcome =
        runner.run(support.task(command, inputs, Duration.ofSeconds(20)), new Cancellation());

    assertThat(outcome.ran()).isTrue();
    assertThat(outcome.message()).isEmpty();
    ActionResult result = outcome.result();
    assertThat(result.getExitCode()).isZero();
    assertThat(result.getOutputFilesList())
        .extracting(OutputFile::getPath)
        .containsExactly("out/a.txt");
    assertThat(support.text(result.getOutputFiles(0).getDigest())).isEqualTo("input bytes");
    assertThat(result.getOutputDirectoriesList())
        .extracting(OutputDirectory::getPath)
        .containsExactly("out/dir");
    Tree tree =
        Tree.parseFrom(
            support.cas().get(Digest.fromProto(result.getOutputDirectories(0).getTreeDigest())));
    assertThat(tree.getRoot().getDirectoriesList())
        .extracting(DirectoryNode::getName)
        .containsExactly("sub");
    Directory sub = tree.getChildren(0);
    assertThat(sub.getFiles(0).getName()).isEqualTo("b.txt");
    assertThat(support.text(sub.getFiles(0).getDigest())).isEqualTo("nested\n");
  }

  @Test
  void passesANonZeroExitCodeThrough() {
    ActionOutcome outcome = run(sh("echo failing >&2; exit 3").build());

    assertThat(outcome.code()).isEqualTo(StatusCode.OK);
    assertThat(outcome.result().getExitCode()).isEqualTo(3);
    assertThat(support.text(outcome.result().getStderrDigest())).isEqualTo("failing\n");
  }

  @Test
  void capturesStdoutAndStderrInTheCas() {
    ActionOutcome outcome = run(sh("echo to-out; echo to-err >&2; echo more-out").build());

    assertThat(support.text(outcome.result().getStdoutDigest())).isEqualTo("to-out\nmore-out\n");
    assertThat(support.text(outcome.result().getStderrDigest())).isEqualTo("to-err\n");
  }

  @Test
  void reportsEmptyStdoutAndStderrAsTheEmptyBlob() {
    ActionOutcome outcome = run(sh("true").build());

    assertThat(Digest.fromProto(outcome.result().getStdoutDigest())).isEqualTo(Digest.EMPTY);
    assertThat(Digest.fromProto(outcome.result().getStderrDigest())).isEqualTo(Digest.EMPTY);
  }

  @Test
  void givesTheCommandExactlyItsOwnEnvironment() {
    assertThat(System.getenv()).containsKey("HOME");
    Command command =
        Command.newBuilder()
            .addArguments("env")
            .addEnvironmentVariables(env("FOO", "bar baz"))
            .addEnvironmentVariables(env("PATH", WorkerTestSupport.PATH))
            .build();

    ActionOutcome outcome = run(command);

    assertThat(outcome.result().getExitCode()).isZero();
    List<String> lines =
        Arrays.asList(support.text(outcome.result().getStdoutDigest()).split("\n"));
    assertThat(lines).containsExactlyInAnyOrder("FOO=bar baz", "PATH=" + WorkerTestSupport.PATH);
  }

  @Test
  void runsInTheWorkingDirectoryWithOutputsRelativeToIt() {
    Digest inputs =
        support.put(
            Directory.newBuilder()
                .addDirectories(
                    DirectoryNode.newBuilder()
                        .setName("pkg")
                        .setDigest(
                            support
                                .put(
                                    Directory.newBuilder()
                                        .addFiles(support.file("data.txt", "in pkg", false))
                                        .build())
                                .toProto()))
                .build());
    Command command =
        sh("pwd > gen/where.txt; cat data.txt > gen/copy.txt", "gen/copy.txt", "gen/where.txt")
            .setWorkingDirectory("pkg")
            .build();

    ActionOutcome outcome =
        runner.run(support.task(command, inputs, Duration.ofSeconds(20)), new Cancellation());

    assertThat(outcome.result().getExitCode()).isZero();
    List<OutputFile> files = outcome.result().getOutputFilesList();
    assertThat(files)
        .extracting(OutputFile::getPath)
        .containsExactly("gen/copy.txt", "gen/where.txt");
    assertThat(support.text(files.get(0).getDigest())).isEqualTo("in pkg");
    assertThat(support.text(files.get(1).getDigest())).endsWith("/pkg\n");
    assertThat(support.launcher.requests.get(0).workingDirectory().getFileName().toString())
        .isEqualTo("pkg");
  }

  @Test
  void resolvesABareProgramThroughTheActionsPathNotTheServers() {
    Directory tools =
        Directory.newBuilder()
            .addFiles(support.file("greet", "#!/bin/sh\necho hello from tools\n", true))
            .build();
    Digest inputs =
        support.put(
            Directory.newBuilder()
                .addDirectories(
                    DirectoryNode.newBuilder()
                        .setName("tools")
                        .setDigest(support.put(tools).toProto()))
                .build());
    Command command =
        Command.newBuilder()
            .addArguments("greet")
            .addEnvironmentVariables(env("PATH", "/nonexistent:tools:" + WorkerTestSupport.PATH))
            .build();

    ActionOutcome outcome =
        runner.run(support.task(command, inputs, Duration.ofSeconds(20)), new Cancellation());

    assertThat(outcome.result().getExitCode()).isZero();
    assertThat(support.text(outcome.result().getStdoutDigest())).isEqualTo("hello from tools\n");
    Path program = Path.of(support.launcher.requests.get(0).arguments().get(0));
    assertThat(program.isAbsolute()).isTrue();
    assertThat(program.toString()).endsWith("/tools/greet");
  }

  @Test
  void resolvesARelativeProgramAgainstTheWorkingDirectory() {
    Directory bin =
        Directory.newBuilder().addFiles(support.file("run", "#!/bin/sh\necho ran\n", true)).build();
    Digest inputs =
        support.put(
            Directory.newBuilder()
                .addDirectories(
                    DirectoryNode.newBuilder().setName("bin").setDigest(support.put(bin).toProto()))
                .build());
    Command command = Command.newBuilder().addArguments("./bin/run").build();

    ActionOutcome outcome =
        runner.run(support.task(command, inputs, Duration.ofSeconds(20)), new Cancellation());

    assertThat(support.text(outcome.result().getStdoutDigest())).isEqualTo("ran\n");
  }

  @Test
  void searchesTheDefaultPathWhenTheActionSetsNone() {
    ActionOutcome outcome =
        run(
            Command.newBuilder()
                .addArguments("sh")
                .addArguments("-c")
                .addArguments("echo ok")
                .build());

    assertThat(support.text(outcome.result().getStdoutDigest())).isEqualTo("ok\n");
  }

  @Test
  void failsWithFailedPreconditionWhenTheProgramIsNotOnTheActionsPath() throws IOException {
    Command command =
        Command.newBuilder()
            .addArguments("sh")
            .addEnvironmentVariables(env("PATH", "/nonexistent"))
            .build();

    assertThatThrownBy(() -> run(command))
        .isInstanceOfSatisfying(
            HearthException.class,
            e -> {
              assertThat(e.code()).isEqualTo(StatusCode.FAILED_PRECONDITION);
              assertThat(e.getMessage()).contains("'sh'").contains("/nonexistent");
            });
    assertThat(support.launcher.requests).isEmpty();
    assertThat(support.leftovers()).isEmpty();
  }

  @Test
  void failsWithFailedPreconditionForAMissingRelativeProgram() {
    Command command = Command.newBuilder().addArguments("bin/absent").build();

    assertThatThrownBy(() -> run(command))
        .isInstanceOfSatisfying(
            HearthException.class,
            e -> {
              assertThat(e.code()).isEqualTo(StatusCode.FAILED_PRECONDITION);
              assertThat(e.getMessage()).contains("'bin/absent'");
            });
  }

  @Test
  void refusesAMalformedInputTreeBeforeAnythingRuns() throws IOException {
    Digest inputs =
        support.put(Directory.newBuilder().addFiles(support.file("..", "escape", false)).build());
    ExecutionTask task = support.task(sh("echo ran").build(), inputs, Duration.ofSeconds(20));

    assertThatThrownBy(() -> runner.run(task, new Cancellation()))
        .isInstanceOfSatisfying(
            HearthException.class,
            e -> assertThat(e.code()).isEqualTo(StatusCode.INVALID_ARGUMENT));
    assertThat(support.launcher.requests).isEmpty();
    assertThat(support.leftovers()).isEmpty();
  }

  @Test
  void refusesAnInputDirectoryOverTheConfiguredBoundBeforeAnythingRuns() throws IOException {
    Directory.Builder big = Directory.newBuilder();
    for (int i = 0; i < 20; i++) {
      big.addFiles(support.file(String.format("file-%02d.txt", i), "content " + i, false));
    }
    Directory lib = big.build();
    assertThat(lib.getSerializedSize()).isGreaterThan(1024);
    Digest inputs =
        support.put(
            Directory.newBuilder()
                .addDirectories(
                    DirectoryNode.newBuilder().setName("lib").setDigest(support.put(lib).toProto()))
                .build());
    ExecutionTask task = support.task(sh("echo ran").build(), inputs, Duration.ofSeconds(20));

    try (LocalActionRunner small = support.runnerBuilder().maxDirectoryBytes(1024).build()) {
      assertThatThrownBy(() -> small.run(task, new Cancellation()))
          .isInstanceOfSatisfying(
              HearthException.class,
              e -> {
                assertThat(e.code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
                assertThat(e.getMessage()).contains("'lib'", "maxDirectorySize is 1.0 KiB");
              });
    }
    assertThat(support.launcher.requests).isEmpty();
  }

  @Test
  void refusesACommandWithoutArguments() {
    assertThatThrownBy(() -> run(Command.getDefaultInstance()))
        .isInstanceOfSatisfying(
            HearthException.class,
            e -> assertThat(e.code()).isEqualTo(StatusCode.INVALID_ARGUMENT));
  }

  @Test
  void refusesAnEnvironmentVariableNameWithAnEqualsSign() {
    Command command = sh("true").addEnvironmentVariables(env("A=B", "c")).build();

    assertThatThrownBy(() -> run(command))
        .isInstanceOfSatisfying(
            HearthException.class,
            e -> {
              assertThat(e.code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
              assertThat(e.getMessage()).contains("A=B");
            });
  }

  @Test
  void fillsTheMetadataInPhaseOrderFromTheClock() {
    ActionOutcome outcome = run(sh("true").build());

    ExecutedActionMetadata metadata = outcome.result().getExecutionMetadata();
    assertThat(metadata.getWorker()).isEqualTo("test-worker");
    List<com.google.protobuf.Timestamp> phases =
        List.of(
            metadata.getWorkerStartTimestamp(),
            metadata.getInputFetchStartTimestamp(),
            metadata.getInputFetchCompletedTimestamp(),
            metadata.getExecutionStartTimestamp(),
            metadata.getExecutionCompletedTimestamp(),
            metadata.getOutputUploadStartTimestamp(),
            metadata.getOutputUploadCompletedTimestamp(),
            metadata.getWorkerCompletedTimestamp());
    // The ticking clock gains a second per reading, so strictly increasing means each phase read
    // it once, in this order.
    for (int i = 1; i < phases.size(); i++) {
      assertThat(phases.get(i).getSeconds() - phases.get(i - 1).getSeconds())
          .as("phase %d after phase %d", i, i - 1)
          .isPositive();
    }
    assertThat(metadata.getWorkerStartTimestamp().getSeconds())
        .isGreaterThan(Instant.parse("2024-01-01T00:00:00Z").getEpochSecond());
  }

  @Test
  void deletesTheExecRootAndLogFilesAfterEveryRun() throws IOException {
    run(sh("echo x > left.txt; echo out").build());
    run(sh("exit 1").build());

    assertThat(support.leftovers()).isEmpty();
  }

  @Test
  void killsTheWholeTreeOnTimeoutAndReturnsThePartialResult() throws IOException {
    // The root shell, a child shell that becomes a sleep, that one's background sleep, and the
    // root's own background sleep: every pid is written to an output before anything waits.
    String script =
        "echo $$ > pids\n"
            + "sh -c 'echo $$ >> pids; sleep 1000 & echo $! >> pids; exec sleep 1000' &\n"
            + "sleep 1000 & echo $! >> pids\n"
            + "echo partial; echo partial-err >&2\n"
            + "wait\n";
    ExecutionTask task =
        support.task(sh(script, "pids").build(), support.emptyTree(), Duration.ofSeconds(2));

    ActionOutcome outcome = runner.run(task, new Cancellation());

    assertThat(outcome.code()).isEqualTo(StatusCode.DEADLINE_EXCEEDED);
    assertThat(outcome.message()).isEqualTo("command exceeded its timeout of 2s and was killed");
    ActionResult result = outcome.result();
    assertThat(result.getExitCode()).isEqualTo(137);
    assertThat(support.text(result.getStdoutDigest())).isEqualTo("partial\n");
    assertThat(support.text(result.getStderrDigest())).isEqualTo("partial-err\n");
    assertThat(result.getOutputFilesList()).extracting(OutputFile::getPath).containsExactly("pids");
    List<Long> pids =
        support.text(result.getOutputFiles(0).getDigest()).lines().map(Long::parseLong).toList();
    assertThat(pids).hasSize(4);
    for (long pid : pids) {
      assertThat(ProcessHandle.of(pid).filter(ProcessTrees::isRunning))
          .as("process %d", pid)
          .isEmpty();
    }
    assertThat(support.leftovers()).isEmpty();
  }

  @Test
  void killsTheTreeWithinTwoSecondsOfCancellationEvenIfItIgnoresSigterm() throws IOException {
    Path started = tempDir.resolve("started");
    String script =
        "trap '' TERM\n"
            + "sleep 1000 &\n"
            + "echo $$ $! > \"$MARK.tmp\"; mv \"$MARK.tmp\" \"$MARK\"\n"
            + "wait\n";
    Command command = sh(script).addEnvironmentVariables(env("MARK", started.toString())).build();
    Cancellation cancellation = new Cancellation();
    CompletableFuture<ActionOutcome> outcome =
        CompletableFuture.supplyAsync(
            () -> runner.run(support.task(command), cancellation), background);
    await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(started));
    List<Long> pids =
        Arrays.stream(Files.readString(started).trim().split(" ")).map(Long::parseLong).toList();

    cancellation.cancel();

    await().atMost(Duration.ofSeconds(2)).until(outcome::isDone);
    assertThat(outcome.join().code()).isEqualTo(StatusCode.CANCELLED);
    for (long pid : pids) {
      assertThat(ProcessHandle.of(pid).filter(ProcessTrees::isRunning))
          .as("process %d", pid)
          .isEmpty();
    }
    assertThat(support.leftovers()).isEmpty();
  }

  @Test
  void runsNothingWhenCancelledBeforeTheStart() {
    Cancellation cancellation = new Cancellation();
    cancellation.cancel();

    ActionOutcome outcome = runner.run(support.task(sh("echo ran").build()), cancellation);

    assertThat(outcome.code()).isEqualTo(StatusCode.CANCELLED);
    assertThat(outcome.result().getExecutionMetadata().getWorker()).isEqualTo("test-worker");
    assertThat(support.launcher.requests).isEmpty();
  }

  @Test
  void readsInputsFromAndWritesOutputsToTheCasOfTheTasksInstance() throws IOException {
    try (Hearth other = Hearth.newBuilder().build();
        LocalActionRunner twoInstances =
            support
                .runnerBuilder()
                .workDirectory(tempDir.resolve("work-2"))
                .cas(name -> name.equals("other/instance") ? other.cas() : support.cas())
                .build()) {
      Command command = sh("cat in.txt > out.txt", "out.txt").build();
      Digest inputs =
          other
              .cas()
              .put(
                  Directory.newBuilder()
                      .addFiles(
                          FileNode.newBuilder()
                              .setName("in.txt")
                              .setDigest(
                                  other
                                      .cas()
                                      .put(ByteString.copyFromUtf8("only in other"))
                                      .toProto()))
                      .build()
                      .toByteString());
      ExecutionTask task = support.task(command, inputs, Duration.ofSeconds(20));
      ExecutionTask inOther =
          new ExecutionTask(
              "other/instance", task.actionDigest(), task.action(), command, task.timeout());

      ActionOutcome outcome = twoInstances.run(inOther, new Cancellation());

      Digest output = Digest.fromProto(outcome.result().getOutputFiles(0).getDigest());
      assertThat(other.cas().get(output).toStringUtf8()).isEqualTo("only in other");
      assertThat(support.cas().contains(output)).isFalse();
      assertThat(support.cas().contains(Digest.fromProto(outcome.result().getStdoutDigest())))
          .isTrue(); // the empty blob, which every CAS holds
      try (Stream<Path> dirs = Files.list(tempDir.resolve("work-2/instances"))) {
        assertThat(dirs.map(d -> d.getFileName().toString()))
            .containsExactly(InstanceExecRoots.directoryName("other/instance"));
      }
    }
  }

  @Test
  void namesInstanceDirectoriesSafelyAndDistinctly() {
    assertThat(InstanceExecRoots.directoryName("")).startsWith("instance--");
    assertThat(InstanceExecRoots.directoryName("a/b")).startsWith("instance-a_b-");
    assertThat(InstanceExecRoots.directoryName("a/b"))
        .isNotEqualTo(InstanceExecRoots.directoryName("a_b"));
  }

  @Test
  void refusesRunsAfterClose() {
    runner.close();

    assertThatThrownBy(() -> run(sh("true").build()))
        .isInstanceOfSatisfying(
            HearthException.class, e -> assertThat(e.code()).isEqualTo(StatusCode.UNAVAILABLE));
  }
}
