package build.hearth.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import build.hearth.core.config.HearthConfig;
import build.hearth.core.config.PersistentWorkersConfig;
import build.hearth.core.config.ServerConfig;
import build.hearth.core.config.WorkerConfig;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The configuration files of {@code examples/persistent-workers} parse, and say what the README
 * says they say: a server with the worker API and no worker of its own, a worker file with the idle
 * timeout and per-key maximum, and a {@code .bazelrc} that sends the persistent-worker properties
 * to that server.
 */
class DeploymentExampleConfigTest {

  @Test
  void hearthConfigServesTheWorkerApiAndHasNoWorkerOfItsOwn() {
    HearthConfig config =
        HearthConfig.parse(DeploymentExample.read("hearth-config.json"), "hearth-config.json");
    assertThat(config.workers()).as("workers come from worker-wrapper.sh").isEmpty();
    assertThat(config.servers()).hasSize(1);
    ServerConfig server = config.servers().get(0);
    assertThat(server.listenAddress()).isEqualTo("127.0.0.1:50052");
    assertThat(server.workerApi()).isPresent();
    assertThat(server.instances()).containsKey("");
    assertThat(config.schedulers().get("main").propertyTypes())
        .containsKeys("OSFamily", "persistentWorkerKey", "persistentWorkerTool");
  }

  @Test
  void workerFileSetsTheIdleTimeoutAndThePerKeyMaximum() {
    WorkerConfig worker =
        WorkerConfig.parseStandalone(DeploymentExample.read("worker.json"), "worker.json");
    PersistentWorkersConfig pool = worker.persistentWorkers();
    assertThat(pool.enabled()).isTrue();
    assertThat(pool.idleTimeout()).isEqualTo(Duration.ofMinutes(5));
    assertThat(pool.maxProcessesPerKey()).isEqualTo(4);
    assertThat(worker.properties()).containsEntry("OSFamily", List.of("Linux"));
  }

  @Test
  void bazelrcSendsThePersistentWorkerPropertiesToTheExampleServer() {
    List<String> lines = DeploymentExample.read(".bazelrc").lines().toList();
    assertThat(lines)
        .contains(
            "build --remote_executor=grpc://" + DeploymentExample.EXAMPLE_ADDRESS,
            "build --remote_default_exec_properties=OSFamily=Linux",
            "build --remote_default_exec_properties=persistentWorkerTool=javac")
        .anySatisfy(
            line ->
                assertThat(line)
                    .startsWith("build --remote_default_exec_properties=persistentWorkerKey="));
  }
}
