package build.hearth.core.worker;

import static build.hearth.core.worker.WorkerTestSupport.sh;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import build.hearth.core.config.SandboxConfig;
import build.hearth.core.execution.Cancellation;
import build.hearth.core.sandbox.SandboxCapabilities;
import build.hearth.core.sandbox.SandboxCapabilities.Part;
import build.hearth.core.sandbox.SandboxProperties;
import build.hearth.spi.worker.ActionOutcome;
import build.hearth.spi.worker.ExecutionTask;
import java.nio.file.Path;
import java.util.OptionalInt;
import java.util.OptionalLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * How a runner starts with each sandbox mode when bubblewrap is unusable, and how it checks the
 * sandbox properties of an action.
 */
class SandboxStartTest {
  @TempDir Path tempDir;

  private WorkerTestSupport support;

  @BeforeEach
  void setUp() {
    support = new WorkerTestSupport(tempDir);
  }

  @AfterEach
  void tearDown() {
    support.close();
  }

  private static SandboxConfig config(SandboxConfig.Mode mode, Path bubblewrap) {
    return new SandboxConfig(
        mode,
        "nobody",
        "",
        false,
        OptionalLong.empty(),
        OptionalLong.of(1L << 30),
        OptionalInt.of(SandboxConfig.DEFAULT_PROCESS_LIMIT),
        OptionalInt.of(10_000),
        SandboxConfig.DEFAULT_READ_ONLY_PATHS,
        bubblewrap);
  }

  @Test
  void aRequiredSandboxWithAnUnusableBubblewrapRefusesToStartNamingThePart() {
    Path missing = tempDir.resolve("no-such-dir/bwrap");

    assertThatThrownBy(
            () ->
                support
                    .runnerBuilder()
                    .sandbox(config(SandboxConfig.Mode.REQUIRED, missing))
                    .build())
        .isInstanceOfSatisfying(
            HearthException.class,
            e -> assertThat(e.code()).isEqualTo(StatusCode.FAILED_PRECONDITION))
        .hasMessageContaining("mount (bubblewrap is not installed: no program " + missing)
        .hasMessageContaining("apt-get install bubblewrap")
        .hasMessageContaining("\"sandbox\": \"optional\"");
  }

  @Test
  void anOptionalSandboxWithAnUnusableBubblewrapStartsAndSaysWhatItLacks() {
    Path missing = tempDir.resolve("no-such-dir/bwrap");
    try (LocalActionRunner runner =
        support.runnerBuilder().sandbox(config(SandboxConfig.Mode.OPTIONAL, missing)).build()) {
      SandboxCapabilities capabilities = runner.sandboxCapabilities();

      assertThat(capabilities.mode()).isEqualTo(SandboxConfig.Mode.OPTIONAL);
      assertThat(capabilities.refused())
          .containsKeys(Part.MOUNT, Part.PID, Part.IPC, Part.UTS, Part.NETWORK, Part.USER);
      assertThat(capabilities.refused().get(Part.MOUNT)).contains(missing.toString());
      assertThat(capabilities.actionUser()).startsWith("the worker's own user");
      // It still runs actions, unconfined.
      ActionOutcome outcome = runner.run(support.task(sh("echo ran").build()), new Cancellation());
      assertThat(outcome.ran()).as(outcome.message()).isTrue();
      assertThat(support.text(outcome.result().getStdoutDigest())).isEqualTo("ran\n");
      assertThat(support.launcher.requests.get(0).arguments().get(0)).isEqualTo("/bin/sh");
    }
  }

  @Test
  void anOffSandboxProbesNothing() {
    try (LocalActionRunner runner =
        support
            .runnerBuilder()
            .sandbox(config(SandboxConfig.Mode.OFF, Path.of("/nowhere")))
            .build()) {
      assertThat(runner.sandboxCapabilities().mode()).isEqualTo(SandboxConfig.Mode.OFF);
      assertThat(runner.sandboxCapabilities().refused()).isEmpty();
      assertThat(runner.sandboxCapabilities().available()).isEmpty();
    }
  }

  @ParameterizedTest
  @CsvSource({
    "memoryLimit, lots, memoryLimit",
    "memoryLimit, 0, memoryLimit",
    "memoryLimit, 2GiB, 1.0 GiB",
    "processLimit, 0, processLimit",
    "processLimit, many, processLimit",
    "processLimit, 10001, 10000",
    "network, maybe, network",
  })
  void aBadPropertyValueIsAnInvalidArgumentNamingIt(String name, String value, String named) {
    try (LocalActionRunner runner =
        support.runnerBuilder().sandbox(config(SandboxConfig.Mode.OFF, Path.of("bwrap"))).build()) {
      ExecutionTask task =
          support.task(sh("true").setPlatform(SandboxedActionTest.platform(name, value)).build());

      assertThatThrownBy(() -> runner.run(task, new Cancellation()))
          .isInstanceOfSatisfying(
              HearthException.class,
              e -> assertThat(e.code()).isEqualTo(StatusCode.INVALID_ARGUMENT))
          .hasMessageContaining("platform property " + name)
          .hasMessageContaining(value)
          .hasMessageContaining(named);
      assertThat(support.launcher.requests).isEmpty();
    }
  }

  @Test
  void theActionsPlatformWinsOverTheCommands() {
    // Only the command's platform names the bad value; the action's, which has properties, wins.
    try (LocalActionRunner runner =
        support.runnerBuilder().sandbox(config(SandboxConfig.Mode.OFF, Path.of("bwrap"))).build()) {
      var command =
          sh("echo ok")
              .setPlatform(SandboxedActionTest.platform(SandboxProperties.PROCESS_LIMIT, "0"))
              .build();
      ExecutionTask plain = support.task(command);
      ExecutionTask task =
          new ExecutionTask(
              plain.instanceName(),
              plain.actionDigest(),
              plain.action().toBuilder()
                  .setPlatform(SandboxedActionTest.platform(SandboxProperties.PROCESS_LIMIT, "8"))
                  .build(),
              command,
              plain.timeout());

      assertThat(runner.run(task, new Cancellation()).ran()).isTrue();
    }
  }
}
