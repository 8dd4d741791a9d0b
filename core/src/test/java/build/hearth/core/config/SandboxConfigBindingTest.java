package build.hearth.core.config;

import static build.hearth.core.config.ConfigTestSupport.errorOf;
import static build.hearth.core.config.ConfigTestSupport.withWorkers;
import static org.assertj.core.api.Assertions.assertThat;

import build.hearth.api.ConfigException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** A worker's {@code sandbox}, in a server's file and in a standalone worker's file. */
class SandboxConfigBindingTest {

  private static SandboxConfig inServer(String sandbox) {
    return HearthConfig.parse(withWorkers(worker(sandbox)), "t").workers().get(0).sandbox();
  }

  private static String worker(String sandbox) {
    return "[ { \"name\": \"w\", \"scheduler\": \"main\", \"sandbox\": " + sandbox + " } ]";
  }

  private static ConfigException serverError(String sandbox) {
    return errorOf(withWorkers(worker(sandbox)));
  }

  private static ConfigException standaloneError(String json) {
    try {
      WorkerConfig worker = WorkerConfig.parseStandalone(json, "worker.json");
      throw new AssertionError("expected a ConfigException, but it parsed to " + worker);
    } catch (ConfigException e) {
      return e;
    }
  }

  @Test
  void aWorkerWithoutSandboxGetsTheOptionalDefault() {
    assertThat(
            HearthConfig.parse(withWorkers("[ { \"name\": \"w\", \"scheduler\": \"main\" } ]"), "t")
                .workers()
                .get(0)
                .sandbox())
        .isEqualTo(SandboxConfig.DEFAULT);
    assertThat(WorkerConfig.parseStandalone("{}", "w.json").sandbox())
        .isEqualTo(SandboxConfig.DEFAULT);
  }

  @Test
  void theEmbeddedDefaultsWorkerSandboxesWhereTheKernelAllows() {
    assertThat(HearthConfig.embeddedDefault().workers().get(0).sandbox())
        .isEqualTo(SandboxConfig.DEFAULT);
  }

  @Test
  void aModeAloneKeepsEveryOtherDefault() {
    SandboxConfig required = inServer("\"required\"");

    assertThat(required.mode()).isEqualTo(SandboxConfig.Mode.REQUIRED);
    assertThat(required.user()).isEqualTo("nobody");
    assertThat(required.allowNetwork()).isFalse();
    assertThat(required.processLimit()).isEqualTo(OptionalInt.of(4096));
    assertThat(required.readOnlyPaths()).isEqualTo(SandboxConfig.DEFAULT_READ_ONLY_PATHS);
    assertThat(inServer("\"optional\"")).isEqualTo(SandboxConfig.DEFAULT);
    assertThat(inServer("\"off\"")).isEqualTo(SandboxConfig.OFF);
  }

  @Test
  void everyFieldOfTheObjectBinds() {
    SandboxConfig sandbox =
        WorkerConfig.parseStandalone(
                """
                { "sandbox": {
                    "mode": "required",
                    "user": "builder",
                    "group": "builders",
                    "allowNetwork": true,
                    "memoryLimit": "4GiB",
                    "maxMemoryLimit": 17179869184,
                    "processLimit": 1024,
                    "maxProcessLimit": 8192,
                    "readOnlyPaths": ["/usr", "/lib/", "/etc/ssl"],
                    "bubblewrap": "/opt/bwrap/bin/bwrap"
                } }
                """,
                "worker.json")
            .sandbox();

    assertThat(sandbox)
        .isEqualTo(
            new SandboxConfig(
                SandboxConfig.Mode.REQUIRED,
                "builder",
                "builders",
                true,
                OptionalLong.of(4L << 30),
                OptionalLong.of(16L << 30),
                OptionalInt.of(1024),
                OptionalInt.of(8192),
                List.of(Path.of("/usr"), Path.of("/lib"), Path.of("/etc/ssl")),
                Path.of("/opt/bwrap/bin/bwrap")));
  }

  @Test
  void anObjectWithoutModeIsOptional() {
    SandboxConfig sandbox = inServer("{ \"allowNetwork\": true }");

    assertThat(sandbox.mode()).isEqualTo(SandboxConfig.Mode.OPTIONAL);
    assertThat(sandbox.allowNetwork()).isTrue();
    assertThat(sandbox.user()).isEqualTo("nobody");
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "\"strict\" | workers[0].sandbox | expected \"required\" (refuse to start without every part)",
        "true | workers[0].sandbox | expected \"required\", \"optional\", \"off\" or a sandbox"
            + " object",
        "{\"mode\": \"namespaces\"} | workers[0].sandbox.mode | found the string \"namespaces\"",
        "{\"user\": \"\"} | workers[0].sandbox.user | must name the user actions run as",
        "{\"user\": \"  \"} | workers[0].sandbox.user | such as \"nobody\" or \"65534\"",
        "{\"memoryLimit\": \"lots\"} | workers[0].sandbox.memoryLimit | expected a size in bytes",
        "{\"memoryLimit\": \"1KiB\"} | workers[0].sandbox.memoryLimit | must be at least 1MiB",
        "{\"memoryLimit\": \"4GiB\", \"maxMemoryLimit\": \"1GiB\"}"
            + " | workers[0].sandbox.maxMemoryLimit | below \"memoryLimit\" (4294967296)",
        "{\"maxMemoryLimit\": \"1GiB\"} | workers[0].sandbox.maxMemoryLimit"
            + " | set \"memoryLimit\" too",
        "{\"processLimit\": 0} | workers[0].sandbox.processLimit | needs 1 process at least",
        "{\"maxProcessLimit\": 100} | workers[0].sandbox.maxProcessLimit"
            + " | below the default processLimit of 4096 processes",
        "{\"processLimit\": 64, \"maxProcessLimit\": 32} | workers[0].sandbox.maxProcessLimit"
            + " | below \"processLimit\" (64 processes)",
        "{\"readOnlyPaths\": [\"/usr\", \"lib\"]} | workers[0].sandbox.readOnlyPaths[1]"
            + " | must be an absolute path",
        "{\"readOnlyPaths\": [\"/usr\", \"/usr/\"]} | workers[0].sandbox.readOnlyPaths[1]"
            + " | /usr is listed twice (also at workers[0].sandbox.readOnlyPaths[0])",
        "{\"readOnlyPaths\": [\"/\"]} | workers[0].sandbox.readOnlyPaths[0]"
            + " | the root directory would show the action the whole machine",
        "{\"readOnlyPaths\": \"/usr\"} | workers[0].sandbox.readOnlyPaths"
            + " | expected an array of absolute paths",
        "{\"allowNetwork\": \"yes\"} | workers[0].sandbox.allowNetwork | expected true or false",
        "{\"bubblewrap\": \"\"} | workers[0].sandbox.bubblewrap | expected a path",
        "{\"allowNetowrk\": true} | workers[0].sandbox.allowNetowrk"
            + " | unknown field 'allowNetowrk'; did you mean 'allowNetwork'?",
      })
  void errorsNameTheFieldPath(String sandbox, String path, String message) {
    ConfigException error = serverError(sandbox);

    assertThat(error.path()).isEqualTo(path);
    assertThat(error.getMessage()).contains(message);
  }

  @Test
  void aStandaloneWorkersErrorsNameTheFieldPathToo() {
    ConfigException error = standaloneError("{ \"sandbox\": { \"mode\": \"always\" } }");

    assertThat(error.path()).isEqualTo("sandbox.mode");
    assertThat(error.getMessage())
        .contains("expected \"required\" (refuse to start")
        .contains("\"off\" (no sandbox)");
  }

  @Test
  void networkIsNoPropertyAWorkerMayConfigure() {
    ConfigException inServer =
        errorOf(
            withWorkers(
                "[ { \"name\": \"w\", \"scheduler\": \"main\","
                    + " \"properties\": { \"network\": \"on\" } } ]"));
    ConfigException standalone = standaloneError("{ \"properties\": { \"network\": [\"off\"] } }");

    assertThat(inServer.path()).isEqualTo("workers[0].properties.network");
    assertThat(inServer.getMessage())
        .contains("the worker offers \"network\" itself")
        .contains("\"allowNetwork\"");
    assertThat(standalone.path()).isEqualTo("properties.network");
  }

  @Test
  void persistentWorkersSandboxPointsToTheWorkersSandbox() {
    ConfigException error =
        errorOf(
            withWorkers(
                "[ { \"name\": \"w\", \"scheduler\": \"main\","
                    + " \"persistentWorkers\": { \"sandbox\": \"namespaces\" } } ]"));

    assertThat(error.path()).isEqualTo("workers[0].persistentWorkers.sandbox");
    assertThat(error.getMessage())
        .contains("remove persistentWorkers.sandbox")
        .contains("set the worker's \"sandbox\"");
  }

  @Test
  void theManualsSandboxExampleIsAValidWorkerFile() throws IOException {
    String manual = Files.readString(Path.of("..", "docs", "configuration.md"));
    Matcher example =
        Pattern.compile("```json worker-config sandbox\n(.*?)```", Pattern.DOTALL).matcher(manual);

    assertThat(example.find()).as("the sandbox example in docs/configuration.md").isTrue();
    SandboxConfig sandbox = WorkerConfig.parseStandalone(example.group(1), "manual").sandbox();
    assertThat(sandbox.mode()).isEqualTo(SandboxConfig.Mode.REQUIRED);
    assertThat(sandbox.maxMemoryLimitBytes()).isEqualTo(OptionalLong.of(16L << 30));
  }
}
