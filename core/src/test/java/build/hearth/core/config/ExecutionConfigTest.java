package build.hearth.core.config;

import static build.hearth.core.config.ConfigTestSupport.errorOf;
import static build.hearth.core.config.ConfigTestSupport.withExecution;
import static build.hearth.core.config.ConfigTestSupport.withServerField;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import build.hearth.api.ConfigException;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** An instance's "execution" and a server's "workerApi": the two ways into a scheduler. */
class ExecutionConfigTest {

  private static ExecutionConfig execution(String json) {
    return HearthConfig.parse(withExecution(json), "t")
        .servers()
        .get(0)
        .instances()
        .get("")
        .execution()
        .orElseThrow();
  }

  @Test
  void everyFieldBinds() {
    ExecutionConfig execution =
        execution(
            "{ \"scheduler\": \"batch\", \"defaultTimeout\": \"90s\", \"maxTimeout\": \"2d\","
                + " \"maxCompletedOperations\": 50, \"maxCompletedOperationBytes\": \"4MiB\","
                + " \"maxOperationsPerExecution\": 7, \"reattachGrace\": \"2s\" }");

    assertThat(execution.scheduler()).isEqualTo("batch");
    assertThat(execution.defaultTimeout()).isEqualTo(Duration.ofSeconds(90));
    assertThat(execution.maxTimeout()).isEqualTo(Duration.ofDays(2));
    assertThat(execution.maxCompletedOperations()).isEqualTo(50);
    assertThat(execution.maxCompletedOperationBytes()).isEqualTo(4L << 20);
    assertThat(execution.maxOperationsPerExecution()).isEqualTo(7);
    assertThat(execution.reattachGrace()).isEqualTo(Duration.ofSeconds(2));
    assertThat(execution)
        .hasToString(
            "ExecutionConfig{scheduler=batch, defaultTimeout=90s, maxTimeout=2d,"
                + " maxCompletedOperations=50, maxCompletedOperationBytes=4194304,"
                + " maxOperationsPerExecution=7, reattachGrace=2s}");
  }

  @Test
  void completedOperationsAndTheReattachGraceHaveDefaults() {
    ExecutionConfig execution = execution("{ \"scheduler\": \"main\" }");

    assertThat(execution.maxCompletedOperations()).isEqualTo(10_000);
    assertThat(execution.maxCompletedOperationBytes()).isEqualTo(32L << 20);
    assertThat(execution.maxOperationsPerExecution()).isEqualTo(1000);
    assertThat(execution.reattachGrace()).isEqualTo(Duration.ofSeconds(5));
  }

  @Test
  void badOperationBoundsAreRefusedNamingTheField() {
    ConfigException zeroBytes =
        errorOf(withExecution("{ \"scheduler\": \"main\", \"maxCompletedOperationBytes\": 0 }"));
    assertThat(zeroBytes.path())
        .isEqualTo("servers[0].instances.\"\".execution.maxCompletedOperationBytes");
    assertThat(zeroBytes.getMessage()).contains("at least 1 byte");

    ConfigException notASize =
        errorOf(
            withExecution("{ \"scheduler\": \"main\", \"maxCompletedOperationBytes\": \"lots\" }"));
    assertThat(notASize.path())
        .isEqualTo("servers[0].instances.\"\".execution.maxCompletedOperationBytes");

    ConfigException zeroOperations =
        errorOf(withExecution("{ \"scheduler\": \"main\", \"maxOperationsPerExecution\": 0 }"));
    assertThat(zeroOperations.path())
        .isEqualTo("servers[0].instances.\"\".execution.maxOperationsPerExecution");
    assertThat(zeroOperations.getMessage()).contains("must be at least 1");
  }

  @Test
  void aReattachGraceOverThirtySecondsIsRefusedNamingTheField() {
    assertThatThrownBy(() -> execution("{ \"scheduler\": \"main\", \"reattachGrace\": \"31s\" }"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("reattachGrace")
        .hasMessageContaining("at most 30s");
  }

  @Test
  void timeoutsDefaultToFifteenMinutesAndThreeHours() {
    ExecutionConfig execution = execution("{ \"scheduler\": \"main\" }");

    assertThat(execution.defaultTimeout())
        .isEqualTo(ExecutionConfig.DEFAULT_DEFAULT_TIMEOUT)
        .isEqualTo(Duration.ofMinutes(15));
    assertThat(execution.maxTimeout())
        .isEqualTo(ExecutionConfig.DEFAULT_MAX_TIMEOUT)
        .isEqualTo(Duration.ofHours(3));
  }

  @Test
  void defaultTimeoutMayEqualTheMaximum() {
    ExecutionConfig execution =
        execution(
            "{ \"scheduler\": \"main\", \"defaultTimeout\": \"1h\", \"maxTimeout\": \"60m\" }");

    assertThat(execution.defaultTimeout()).isEqualTo(execution.maxTimeout());
  }

  @Test
  void anInstanceMayExecuteWithoutAnActionCache() {
    InstanceConfig instance =
        HearthConfig.parse(withExecution("{ \"scheduler\": \"main\" }"), "t")
            .servers()
            .get(0)
            .instances()
            .get("");

    assertThat(instance.actionCacheStore()).isEmpty();
    assertThat(instance.execution()).isPresent();
  }

  @Test
  void workerApiBinds() {
    String json =
        """
        {
          "blobStores": { "cas": { "type": "memory" } },
          "schedulers": { "main": {} },
          "servers": [
            { "listen": "0.0.0.0:50052", "workerApi": { "scheduler": "main" },
              "insecureAllowUnauthenticated": true,
              "instances": { "": { "cas": "cas" } } }
          ]
        }
        """;

    ServerConfig server = HearthConfig.parse(json, "t").servers().get(0);

    assertThat(server.workerApi()).contains(new WorkerApiConfig("main"));
    assertThat(server.workerApi().orElseThrow().scheduler()).isEqualTo("main");
    assertThat(server.workerApi().orElseThrow().maxAssignmentBytes())
        .isEqualTo((32 << 20) + (1 << 20));
  }

  @Test
  void workerApiMaxAssignmentSizeBindsAndIsBounded() {
    String json =
        """
        {
          "blobStores": { "cas": { "type": "memory" } },
          "schedulers": { "main": {} },
          "servers": [
            { "listen": "0.0.0.0:50052",
              "workerApi": { "scheduler": "main", "maxAssignmentSize": SIZE },
              "insecureAllowUnauthenticated": true,
              "instances": { "": { "cas": "cas" } } }
          ]
        }
        """;

    ServerConfig server =
        HearthConfig.parse(json.replace("SIZE", "\"8MiB\""), "t").servers().get(0);
    assertThat(server.workerApi().orElseThrow().maxAssignmentBytes()).isEqualTo(8 << 20);

    ConfigException small = errorOf(json.replace("SIZE", "\"1MiB\""));
    assertThat(small.path()).isEqualTo("servers[0].workerApi.maxAssignmentSize");
    assertThat(small.getMessage()).contains("must be from 4194304 bytes (4.0 MiB)", "\"1MiB\"");
    ConfigException huge = errorOf(json.replace("SIZE", "\"2GiB\""));
    assertThat(huge.path()).isEqualTo("servers[0].workerApi.maxAssignmentSize");
    ConfigException notASize = errorOf(json.replace("SIZE", "true"));
    assertThat(notASize.path()).isEqualTo("servers[0].workerApi.maxAssignmentSize");
  }

  // ---- errors ----

  @Test
  void executionNeedsAScheduler() {
    ConfigException e = errorOf(withExecution("{ \"defaultTimeout\": \"1m\" }"));

    assertThat(e.path()).isEqualTo("servers[0].instances.\"\".execution.scheduler");
    assertThat(e.line()).isEqualTo(7);
    assertThat(e.getMessage())
        .isEqualTo(
            "servers[0].instances.\"\".execution.scheduler (line 7): missing required field"
                + " 'scheduler'; it names the schedulers entry that runs this instance's actions");
  }

  @Test
  void executionNamesASchedulerThatIsNotDefined() {
    ConfigException e = errorOf(withExecution("{ \"scheduler\": \"mian\" }"));

    assertThat(e.path()).isEqualTo("servers[0].instances.\"\".execution.scheduler");
    assertThat(e.line()).isEqualTo(7);
    assertThat(e.getMessage()).endsWith("no scheduler named 'mian'; defined: main, batch");
  }

  @Test
  void executionWhenNoSchedulersAreDefined() {
    ConfigException e =
        errorOf(
            """
            {
              "blobStores": { "cas": { "type": "memory" } },
              "servers": [ { "listen": "127.0.0.1:0", "instances": {
                "": { "cas": "cas", "execution": { "scheduler": "main" } } } } ]
            }
            """);

    assertThat(e.path()).isEqualTo("servers[0].instances.\"\".execution.scheduler");
    assertThat(e.line()).isEqualTo(4);
    assertThat(e.getMessage())
        .endsWith("no scheduler named 'main'; none are defined (add one under \"schedulers\")");
  }

  @Test
  void unknownExecutionField() {
    ConfigException e = errorOf(withExecution("{ \"scheduler\": \"main\", \"timeout\": \"1m\" }"));

    assertThat(e.path()).isEqualTo("servers[0].instances.\"\".execution.timeout");
    assertThat(e.line()).isEqualTo(7);
    assertThat(e.getMessage())
        .endsWith(
            "unknown field 'timeout'; known fields here: scheduler, defaultTimeout, maxTimeout,"
                + " maxCompletedOperations, maxCompletedOperationBytes, maxOperationsPerExecution,"
                + " reattachGrace");
  }

  @Test
  void executionMustBeAnObject() {
    ConfigException e = errorOf(withExecution("\"main\""));

    assertThat(e.path()).isEqualTo("servers[0].instances.\"\".execution");
    assertThat(e.line()).isEqualTo(7);
    assertThat(e.getMessage())
        .endsWith(
            "expected an execution object such as {\"scheduler\": \"main\"}, found the string"
                + " \"main\"");
  }

  @Test
  void timeoutThatIsNotADuration() {
    ConfigException e =
        errorOf(withExecution("{ \"scheduler\": \"main\",\n  \"maxTimeout\": 10800 }"));

    assertThat(e.path()).isEqualTo("servers[0].instances.\"\".execution.maxTimeout");
    assertThat(e.line()).isEqualTo(8);
    assertThat(e.getMessage())
        .endsWith(
            "expected a duration with a unit, such as \"250ms\", \"30s\", \"15m\", \"1h\" or"
                + " \"2d\", found the number 10800");
  }

  @Test
  void zeroTimeoutIsRefused() {
    ConfigException e =
        errorOf(withExecution("{ \"scheduler\": \"main\",\n  \"defaultTimeout\": \"0ms\" }"));

    assertThat(e.path()).isEqualTo("servers[0].instances.\"\".execution.defaultTimeout");
    assertThat(e.line()).isEqualTo(8);
    assertThat(e.getMessage()).endsWith("must be longer than zero, found the string \"0ms\"");
  }

  @Test
  void defaultTimeoutOverTheDefaultMaximum() {
    ConfigException e =
        errorOf(withExecution("{ \"scheduler\": \"main\",\n  \"defaultTimeout\": \"4h\" }"));

    assertThat(e.path()).isEqualTo("servers[0].instances.\"\".execution.defaultTimeout");
    assertThat(e.line()).isEqualTo(8);
    assertThat(e.getMessage())
        .isEqualTo(
            "servers[0].instances.\"\".execution.defaultTimeout (line 8): must not be longer than"
                + " maxTimeout (3h, its default); shorten it or raise maxTimeout");
  }

  @Test
  void defaultTimeoutOverAnExplicitMaximum() {
    ConfigException e =
        errorOf(
            withExecution(
                "{ \"scheduler\": \"main\", \"maxTimeout\": \"20m\",\n"
                    + "  \"defaultTimeout\": \"30m\" }"));

    assertThat(e.path()).isEqualTo("servers[0].instances.\"\".execution.defaultTimeout");
    assertThat(e.line()).isEqualTo(8);
    assertThat(e.getMessage())
        .endsWith("must not be longer than maxTimeout (20m); shorten it or raise maxTimeout");
  }

  @Test
  void maximumUnderTheDefaultTimeout() {
    ConfigException e =
        errorOf(withExecution("{ \"scheduler\": \"main\",\n  \"maxTimeout\": \"10m\" }"));

    assertThat(e.path()).isEqualTo("servers[0].instances.\"\".execution.maxTimeout");
    assertThat(e.line()).isEqualTo(8);
    assertThat(e.getMessage())
        .isEqualTo(
            "servers[0].instances.\"\".execution.maxTimeout (line 8): must not be shorter than"
                + " defaultTimeout (15m, its default); raise it or set a shorter"
                + " defaultTimeout");
  }

  @Test
  void workerApiNamesASchedulerThatIsNotDefined() {
    ConfigException e = errorOf(withServerField("workerApi", "{ \"scheduler\": \"main\" }"));

    assertThat(e.path()).isEqualTo("servers[0].workerApi.scheduler");
    assertThat(e.line()).isEqualTo(6);
    assertThat(e.getMessage())
        .isEqualTo(
            "servers[0].workerApi.scheduler (line 6): no scheduler named 'main'; none are defined"
                + " (add one under \"schedulers\")");
  }

  @Test
  void workerApiNeedsAScheduler() {
    ConfigException e = errorOf(withServerField("workerApi", "{}"));

    assertThat(e.path()).isEqualTo("servers[0].workerApi.scheduler");
    assertThat(e.line()).isEqualTo(6);
    assertThat(e.getMessage())
        .endsWith(
            "missing required field 'scheduler'; it names the schedulers entry that workers"
                + " connecting here join");
  }

  @Test
  void workerApiMustBeAnObject() {
    ConfigException e = errorOf(withServerField("workerApi", "true"));

    assertThat(e.path()).isEqualTo("servers[0].workerApi");
    assertThat(e.line()).isEqualTo(6);
    assertThat(e.getMessage())
        .endsWith("expected a worker API object such as {\"scheduler\": \"main\"}, found true");
  }

  @Test
  void unknownWorkerApiField() {
    ConfigException e =
        errorOf(withServerField("workerApi", "{ \"scheduler\": \"main\", \"port\": 50053 }"));

    assertThat(e.path()).isEqualTo("servers[0].workerApi.port");
    assertThat(e.line()).isEqualTo(6);
    assertThat(e.getMessage())
        .endsWith("unknown field 'port'; known fields here: scheduler, maxAssignmentSize");
  }
}
