package build.hearth.core.config;

import static build.hearth.core.config.ConfigTestSupport.errorOf;
import static build.hearth.core.config.ConfigTestSupport.withWorkers;
import static org.assertj.core.api.Assertions.assertThat;

import build.hearth.api.ConfigException;
import build.hearth.api.PoolLimits;
import build.hearth.api.ToolProtocol;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The {@code persistentWorkers} object of a worker. */
class PersistentWorkersConfigTest {

  private static PersistentWorkersConfig bind(String persistentWorkers) {
    String worker =
        "[{\"name\": \"local\", \"scheduler\": \"main\", \"slots\": 4, \"persistentWorkers\": "
            + persistentWorkers
            + "}]";
    return HearthConfig.parse(withWorkers(worker), "test.json")
        .workers()
        .get(0)
        .persistentWorkers();
  }

  private static ConfigException errorFor(String persistentWorkers) {
    return errorOf(
        withWorkers(
            "[{\"name\": \"local\", \"scheduler\": \"main\", \"persistentWorkers\": "
                + persistentWorkers
                + "}]"));
  }

  @Test
  void aWorkerWithoutTheObjectGetsTheDocumentedDefaults() {
    WorkerConfig worker = WorkerConfig.parseStandalone("{\"slots\": 2}", "worker.json");

    PersistentWorkersConfig config = worker.persistentWorkers();
    assertThat(config.enabled()).isTrue();
    assertThat(config.idleTimeout()).isEqualTo(Duration.ofMinutes(5));
    assertThat(config.maxProcessesPerKey()).isEqualTo(10);
    assertThat(config.maxProcesses()).isEqualTo(10);
    assertThat(config.maxRequestsPerProcess()).isZero();
    assertThat(config.memoryLimitBytes()).isZero();
    assertThat(config.atCapacity()).isEqualTo(PoolLimits.AtCapacity.WAIT);
    assertThat(config.maxMultiplexRequests()).isEqualTo(8);
    assertThat(config.tools()).isEmpty();
    assertThat(config.allows("any-key", "")).isTrue();
  }

  @Test
  void theGlobalCapDefaultsToTwiceTheSlotsWhenThatIsMore() {
    assertThat(WorkerConfig.parseStandalone("{\"slots\": 16}", "w.json").persistentWorkers())
        .extracting(PersistentWorkersConfig::maxProcesses)
        .isEqualTo(32);
  }

  @Test
  void everyFieldBinds() {
    PersistentWorkersConfig config =
        bind(
            """
            {
              "idleTimeout": "90s", "maxProcessesPerKey": 3, "maxProcesses": 6,
              "maxRequestsPerProcess": 500, "memoryLimit": "1GiB", "atCapacity": "one-shot",
              "shutdownGrace": "2s", "maxMultiplexRequests": 4,
              "tools": {
                "javac": {"command": ["/opt/jw/bin/javac-worker", "-Xmx1g"], "protocol": "json",
                          "multiplex": true, "cancellable": true, "maxProcessesPerKey": 2,
                          "maxRequestsPerProcess": 10, "memoryLimit": "512MiB",
                          "idleTimeout": "1h"},
                "scalac": {}
              },
              "allow": {"tools": ["javac"], "keys": ["k1"]}
            }
            """);

    assertThat(config.idleTimeout()).isEqualTo(Duration.ofSeconds(90));
    assertThat(config.maxProcessesPerKey()).isEqualTo(3);
    assertThat(config.maxProcesses()).isEqualTo(6);
    assertThat(config.maxRequestsPerProcess()).isEqualTo(500);
    assertThat(config.memoryLimitBytes()).isEqualTo(1L << 30);
    assertThat(config.atCapacity()).isEqualTo(PoolLimits.AtCapacity.ONE_SHOT);
    assertThat(config.shutdownGrace()).isEqualTo(Duration.ofSeconds(2));
    assertThat(config.maxMultiplexRequests()).isEqualTo(4);
    PersistentWorkersConfig.Tool javac = config.tools().get("javac");
    assertThat(javac.command()).containsExactly("/opt/jw/bin/javac-worker", "-Xmx1g");
    assertThat(javac.protocol()).contains(ToolProtocol.JSON);
    assertThat(javac.multiplex()).contains(true);
    assertThat(javac.cancellable()).isTrue();
    assertThat(javac.maxProcessesPerKey()).hasValue(2);
    assertThat(javac.maxRequestsPerProcess()).hasValue(10);
    assertThat(javac.memoryLimitBytes()).hasValue(512L << 20);
    assertThat(javac.idleTimeout()).contains(Duration.ofHours(1));
    PersistentWorkersConfig.Tool scalac = config.tools().get("scalac");
    assertThat(scalac.command()).isEmpty();
    assertThat(scalac.protocol()).isEmpty();
    assertThat(scalac.cancellable()).isFalse();
    assertThat(config.allowedTools()).contains(Set.of("javac"));
    assertThat(config.allowedKeys()).contains(Set.of("k1"));
  }

  @Test
  void allowListsRestrictPersistentExecutionToTheirToolsOrKeys() {
    PersistentWorkersConfig config =
        bind("{\"allow\": {\"tools\": [\"javac\"], \"keys\": [\"k1\"]}}");

    assertThat(config.allows("other", "javac")).isTrue();
    assertThat(config.allows("k1", "")).isTrue();
    assertThat(config.allows("other", "scalac")).isFalse();
    assertThat(bind("{\"enabled\": false}").allows("k1", "javac")).isFalse();
    assertThat(bind("{}").allowedKeys()).isEqualTo(Optional.empty());
  }

  @Test
  void theManualsExampleIsAValidWorkerFile() throws IOException {
    // Surefire runs in the module's directory; the manual is one level up.
    String manual = Files.readString(Path.of("..", "docs", "configuration.md"));
    Matcher example =
        Pattern.compile("```json worker-config\n(\\{\\n  \"slots\".*?)```", Pattern.DOTALL)
            .matcher(manual);

    assertThat(example.find()).as("the worker file example in docs/configuration.md").isTrue();
    PersistentWorkersConfig config =
        WorkerConfig.parseStandalone(example.group(1), "manual").persistentWorkers();
    assertThat(config.tools().get("javac").cancellable()).isTrue();
  }

  @Test
  void errorsNameTheFieldPath() {
    ConfigException unknown = errorFor("{\"idleTimout\": \"5m\"}");
    assertThat(unknown.path()).isEqualTo("workers[0].persistentWorkers.idleTimout");
    assertThat(unknown.getMessage()).contains("idleTimeout");

    ConfigException capacity = errorFor("{\"atCapacity\": \"queue\"}");
    assertThat(capacity.path()).isEqualTo("workers[0].persistentWorkers.atCapacity");
    assertThat(capacity.getMessage()).contains("\"wait\"").contains("\"one-shot\"");

    ConfigException perKey = errorFor("{\"maxProcessesPerKey\": 0}");
    assertThat(perKey.path()).isEqualTo("workers[0].persistentWorkers.maxProcessesPerKey");

    ConfigException command = errorFor("{\"tools\": {\"javac\": {\"command\": []}}}");
    assertThat(command.path()).isEqualTo("workers[0].persistentWorkers.tools.javac.command");
    assertThat(command.getMessage()).contains("at least a program");

    ConfigException protocol = errorFor("{\"tools\": {\"javac\": {\"protocol\": \"xml\"}}}");
    assertThat(protocol.path()).isEqualTo("workers[0].persistentWorkers.tools.javac.protocol");
    assertThat(protocol.getMessage()).contains("\"proto\" or \"json\"");

    ConfigException allow = errorFor("{\"allow\": {}}");
    assertThat(allow.path()).isEqualTo("workers[0].persistentWorkers.allow");
    assertThat(allow.getMessage()).contains("allows nothing");

    ConfigException memory = errorFor("{\"memoryLimit\": \"lots\"}");
    assertThat(memory.path()).isEqualTo("workers[0].persistentWorkers.memoryLimit");
    assertThat(List.of(memory.getMessage())).anySatisfy(m -> assertThat(m).contains("4MiB"));
  }
}
