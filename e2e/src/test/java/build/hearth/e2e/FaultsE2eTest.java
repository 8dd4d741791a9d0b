package build.hearth.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import build.hearth.server.HearthServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Faults seen from the real Bazel 4.2.3 client with {@code --remote_executor} on a Hearth with one
 * in-process worker: an action over its timeout, an action asking for a platform no worker offers,
 * and a client interrupted while its action runs. The server, worker and client are shared by the
 * tests, which do not depend on each other's order.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FaultsE2eTest {
  /** Bazel's exit codes. */
  private static final int TESTS_FAILED = 3;

  /** What Bazel exits with when remote execution reports an error instead of a result. */
  private static final int REMOTE_ERROR = 34;

  private static final int INTERRUPTED = 8;

  /**
   * How long an action may wait for a worker here. An action no worker can ever run must fail long
   * before that: the test allows a sixth of it, Bazel's analysis included.
   */
  private static final Duration MAX_QUEUE_TIME = Duration.ofMinutes(2);

  private static final Duration PROMPT_FAILURE = Duration.ofSeconds(20);

  /** The bound on how long a cancelled action's process may outlive the cancellation. */
  private static final Duration KILL_WITHIN = Duration.ofSeconds(2);

  private WorkerSetup worker;
  private HearthServer hearth;
  private Bazel bazel;
  private String executor;

  @BeforeAll
  void startServer(@TempDir Path storage) {
    worker = WorkerSetup.linux("local", 2, storage.resolve("workers"));
    hearth =
        HearthServer.start(
            HearthConfigs.remoteExecution(
                storage, MAX_QUEUE_TIME.toMinutes() + "m", List.of(worker)));
    bazel = Bazel.open(BazelWorkspace.fromTemplate("remote"), FaultsE2eTest.class);
    executor = "--remote_executor=grpc://localhost:" + hearth.port();
  }

  @AfterAll
  void stopServer() {
    try (HearthServer server = hearth) {
      if (bazel != null) {
        bazel.close();
      }
    }
  }

  @Test
  void anActionOverItsTimeoutIsReportedAsATimeoutWithItsPartialOutput() throws IOException {
    BazelResult result = bazel.run("test", executor, "--test_timeout=3", "//faults:slow_test");

    result.assertExitCode(TESTS_FAILED);
    assertThat(result.output())
        .containsPattern(Pattern.compile("(?m)^//faults:slow_test +TIMEOUT in "));
    ProcessSummary summary = result.processSummary();
    assertThat(summary.spawns()).as("spawns: %s", summary).isPositive();
    assertThat(summary.remotelyExecuted())
        .as("remote spawns: %s", summary)
        .isEqualTo(summary.spawns());
    String log =
        Files.readString(bazel.workspace().resolve("bazel-testlogs/faults/slow_test/test.log"));
    assertThat(log)
        .as("the test log of the timed-out action")
        .contains("hearth-e2e: partial output before the timeout")
        .doesNotContain("this line must never appear");
  }

  @Test
  void anActionAskingForAPlatformNoWorkerOffersFailsAtOnceNamingTheProperty() {
    BazelResult result = bazel.run("build", executor, "//faults:windows_only");

    result.assertExitCode(REMOTE_ERROR);
    assertThat(result.output())
        .as("Bazel's report of the refused action")
        .contains("FAILED_PRECONDITION")
        .contains("OSFamily=Windows")
        .contains("Linux");
    assertThat(result.elapsed())
        .as("time to fail, against a maximum queue time of %s", MAX_QUEUE_TIME)
        .isLessThan(PROMPT_FAILURE);
  }

  @Test
  void anInterruptedClientHasItsActionKilledOnTheWorker() {
    Bazel.Running build = bazel.start("build", executor, "//faults:interruptible");

    Path[] pidFiles = new Path[2];
    await()
        .alias("the interruptible action to run on the worker")
        .atMost(Duration.ofSeconds(90))
        .pollInterval(Duration.ofMillis(50))
        .until(
            () -> {
              Optional<Path> shell = worker.findInExecRoots("hearth-e2e-interruptible-shell.pid");
              assertThat(build.isAlive()).as("bazel still building").isTrue();
              if (shell.isEmpty()) {
                return false;
              }
              // The child's file is written first, in the same exec root.
              pidFiles[0] = shell.get();
              pidFiles[1] = shell.get().resolveSibling("hearth-e2e-interruptible-child.pid");
              return true;
            });
    // The pids in the files are the sandbox's; on the host the processes are found by what they
    // run: the child's `sleep 3007` and the shell whose script writes the shell's pid file (the
    // bwrap that started it carries the same script on its command line, after its own options).
    Set<Long> shells =
        Processes.withCommandLine(
            c ->
                c.startsWith("/bin/bash\u0000")
                    && c.contains("hearth-e2e-interruptible-shell.pid"));
    Set<Long> children = Processes.withCommandLine("sleep\u00003007\u0000"::equals);
    assertThat(shells).as("the action's shell running on the host").hasSize(1);
    assertThat(children).as("the action's child running on the host").hasSize(1);
    long shellPid = shells.iterator().next();
    long childPid = children.iterator().next();
    assertThat(Processes.readPid(pidFiles[0])).as("the shell's pid as it saw it").isPositive();

    build.interrupt();
    await()
        .alias("the action's processes %d and %d to be killed".formatted(shellPid, childPid))
        .atMost(KILL_WITHIN)
        .pollInterval(Duration.ofMillis(20))
        .until(() -> !Processes.isRunning(shellPid) && !Processes.isRunning(childPid));

    build.await().assertExitCode(INTERRUPTED);
  }
}
