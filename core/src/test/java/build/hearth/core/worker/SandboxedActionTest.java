package build.hearth.core.worker;

import static build.hearth.core.worker.WorkerTestSupport.sh;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import build.bazel.remote.execution.v2.Command;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.Platform;
import build.hearth.api.Digest;
import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import build.hearth.core.config.SandboxConfig;
import build.hearth.core.execution.Cancellation;
import build.hearth.core.sandbox.SandboxCapabilities.Part;
import build.hearth.core.sandbox.SandboxProperties;
import build.hearth.spi.worker.ActionOutcome;
import build.hearth.spi.worker.ExecutionTask;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Actions in the real sandbox (bubblewrap, and {@code nobody} on a root worker): what they cannot
 * reach. Needs {@code bwrap} and root, as on the CI machine.
 */
class SandboxedActionTest {
  @TempDir Path tempDir;

  private WorkerTestSupport support;
  private final List<LocalActionRunner> runners = new ArrayList<>();

  @BeforeEach
  void setUp() throws IOException {
    support = new WorkerTestSupport(tempDir);
    assertThat(System.getProperty("user.name"))
        .as("these tests run as root, as CI runs them")
        .isEqualTo("root");
  }

  @AfterEach
  void tearDown() {
    runners.forEach(LocalActionRunner::close);
    support.close();
  }

  private LocalActionRunner runner(SandboxConfig config) {
    LocalActionRunner runner = support.runnerBuilder().sandbox(config).build();
    runners.add(runner);
    return runner;
  }

  private LocalActionRunner runner() {
    return runner(SandboxConfig.DEFAULT);
  }

  private ActionOutcome run(LocalActionRunner runner, Command command, Digest inputRoot) {
    ExecutionTask task = support.task(command, inputRoot, Duration.ofSeconds(30));
    ActionOutcome outcome = runner.run(task, new Cancellation());
    assertThat(outcome.ran()).as(outcome.message()).isTrue();
    return outcome;
  }

  private String stdout(ActionOutcome outcome) {
    return support.text(outcome.result().getStdoutDigest()).trim();
  }

  @Test
  void runsAsNobodyInEveryNamespace() {
    LocalActionRunner runner = runner();

    ActionOutcome outcome =
        run(
            runner,
            sh("id -u; id -g; hostname; echo $$ > out.txt", "out.txt").build(),
            support.emptyTree());

    assertThat(runner.sandboxCapabilities().available())
        .contains(Part.MOUNT, Part.PID, Part.IPC, Part.UTS, Part.NETWORK, Part.USER);
    assertThat(runner.sandboxCapabilities().actionUser()).startsWith("nobody (65534:");
    assertThat(stdout(outcome)).isEqualTo("65534\n65534\nhearth");
    // Its outputs are written as nobody and collected as usual.
    assertThat(outcome.result().getOutputFilesList()).hasSize(1);
  }

  @Test
  void cannotWriteOrChmodAnInputAndTheCacheKeepsItsBytes() {
    LocalActionRunner runner = runner();
    Digest tree =
        support.put(
            Directory.newBuilder().addFiles(support.file("in.txt", "original\n", false)).build());
    String script =
        "if chmod u+w in.txt 2>/dev/null; then echo chmod-ok; else echo chmod-denied; fi;"
            + " if (echo tampered >> in.txt) 2>/dev/null; then echo write-ok; else echo"
            + " write-denied; fi; cat in.txt";

    ActionOutcome first = run(runner, sh(script).build(), tree);
    ActionOutcome second = run(runner, sh("cat in.txt").build(), tree);

    assertThat(stdout(first)).isEqualTo("chmod-denied\nwrite-denied\noriginal");
    assertThat(stdout(second)).isEqualTo("original");
  }

  @Test
  void seesOnlyItsOwnExecRootAndTheSystemDirectories() {
    LocalActionRunner runner = runner();
    Path cache = tempDir.resolve("worker-cache");
    Path serverCas = tempDir.resolve("server-cas");
    assertThat(cache).isDirectory();
    assertThat(serverCas).isDirectory();
    String script =
        "for d in "
            + cache
            + " "
            + serverCas
            + " "
            + support.workDir.resolve("logs")
            + "; do test -e $d && echo visible || echo hidden; done;"
            + " ls -A ..; basename $PWD; test -d /usr/bin && echo usr";

    String[] lines = stdout(run(runner, sh(script).build(), support.emptyTree())).split("\n");

    assertThat(lines).hasSize(6);
    assertThat(lines[0]).isEqualTo("hidden");
    assertThat(lines[1]).isEqualTo("hidden");
    assertThat(lines[2]).isEqualTo("hidden");
    // Its parent holds only itself: no sibling exec root is there to see.
    assertThat(lines[3]).isEqualTo(lines[4]);
    assertThat(lines[5]).isEqualTo("usr");
  }

  @Test
  void hasOnlyItsOwnLoopbackUnlessItMayHaveTheNetwork() throws IOException {
    SandboxConfig allowing =
        new SandboxConfig(
            SandboxConfig.Mode.OPTIONAL,
            "nobody",
            "",
            true,
            OptionalLong.empty(),
            OptionalLong.empty(),
            OptionalInt.empty(),
            OptionalInt.empty(),
            SandboxConfig.DEFAULT_READ_ONLY_PATHS,
            Path.of("bwrap"));
    LocalActionRunner runner = runner(allowing);
    try (ServerSocket listening = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      String script =
          "if (exec 3<>/dev/tcp/127.0.0.1/"
              + listening.getLocalPort()
              + ") 2>/dev/null; then echo connected; else echo refused; fi";
      Command.Builder command =
          Command.newBuilder().addArguments("/bin/bash").addArguments("-c").addArguments(script);

      ActionOutcome cutOff = run(runner, command.build(), support.emptyTree());
      ActionOutcome networked =
          run(
              runner,
              command.setPlatform(platform(SandboxProperties.NETWORK, "on")).build(),
              support.emptyTree());

      assertThat(stdout(cutOff)).isEqualTo("refused");
      assertThat(stdout(networked)).isEqualTo("connected");
    }
  }

  @Test
  void refusesTheNetworkWhereTheWorkerDoesNotAllowIt() {
    LocalActionRunner runner = runner();
    ExecutionTask task =
        support.task(sh("true").setPlatform(platform(SandboxProperties.NETWORK, "on")).build());

    assertThatThrownBy(() -> runner.run(task, new Cancellation()))
        .isInstanceOfSatisfying(
            HearthException.class,
            e -> assertThat(e.code()).isEqualTo(StatusCode.FAILED_PRECONDITION))
        .hasMessageContaining("network=on")
        .hasMessageContaining("sandbox.allowNetwork");
  }

  @Test
  void aBackgroundProcessEndsWithItsAction() {
    LocalActionRunner runner = runner();
    String seconds = Integer.toString(6000 + (int) (Math.random() * 3000)) + ".5";
    try {
      run(
          runner,
          sh("setsid sleep " + seconds + " > /dev/null 2>&1 & echo started").build(),
          support.emptyTree());

      await().atMost(Duration.ofSeconds(10)).until(() -> sleeping(seconds).isEmpty());
    } finally {
      sleeping(seconds).forEach(ProcessHandle::destroyForcibly);
    }
  }

  private static List<ProcessHandle> sleeping(String seconds) {
    return ProcessHandle.allProcesses()
        .filter(
            p -> {
              Optional<String[]> arguments = p.info().arguments();
              return arguments.isPresent()
                  && arguments.get().length == 1
                  && arguments.get()[0].equals(seconds);
            })
        .toList();
  }

  @Test
  void itsTmpIsItsOwn() {
    LocalActionRunner runner = runner();
    String name = "hearth-private-" + UUID.randomUUID();

    ActionOutcome outcome =
        run(
            runner,
            sh("echo x > /tmp/" + name + " && cat /tmp/" + name).build(),
            support.emptyTree());

    assertThat(stdout(outcome)).isEqualTo("x");
    assertThat(Path.of("/tmp", name)).doesNotExist();
  }

  @Test
  void anActionKilledByItsMemoryLimitIsToldSo() {
    LocalActionRunner runner = runner();
    assertThat(runner.sandboxCapabilities().has(Part.MEMORY)).as("cgroup memory limits").isTrue();
    // tail keeps the one endless line in memory.
    Command command =
        sh("head -c 400000000 /dev/zero | tail -n 1 > /dev/null")
            .setPlatform(platform(SandboxProperties.MEMORY_LIMIT, "64MiB"))
            .build();

    ActionOutcome outcome = run(runner, command, support.emptyTree());

    assertThat(outcome.result().getExitCode()).isNotZero();
    assertThat(outcome.message())
        .startsWith("the command was killed by its memory limit of 64.0 MiB (cgroup v")
        .contains("platform property memoryLimit");
  }

  @Test
  void anActionPastItsProcessLimitIsToldSo() {
    LocalActionRunner runner = runner();
    assertThat(runner.sandboxCapabilities().has(Part.PIDS)).as("cgroup process limits").isTrue();
    Command command =
        sh("for i in $(seq 40); do sleep 1 & done 2>/dev/null; wait")
            .setPlatform(platform(SandboxProperties.PROCESS_LIMIT, "16"))
            .build();

    ActionOutcome outcome = run(runner, command, support.emptyTree());

    assertThat(outcome.message())
        .startsWith("the command reached its process limit of 16 (the kernel refused ")
        .contains("platform property processLimit");
  }

  @Test
  void aRequiredSandboxStartsWhereTheMachineAllowsEveryPart() {
    LocalActionRunner optional = runner();
    assertThat(optional.sandboxCapabilities().refused()).as("nothing refused here").isEmpty();
    SandboxConfig required = SandboxConfig.DEFAULT.withMode(SandboxConfig.Mode.REQUIRED);

    LocalActionRunner runner = runner(required);

    assertThat(runner.sandboxCapabilities().mode()).isEqualTo(SandboxConfig.Mode.REQUIRED);
    assertThat(stdout(run(runner, sh("id -u").build(), support.emptyTree()))).isEqualTo("65534");
  }

  static Platform platform(String name, String value) {
    return Platform.newBuilder()
        .addProperties(Platform.Property.newBuilder().setName(name).setValue(value))
        .build();
  }
}
