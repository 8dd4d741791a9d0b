package build.hearth.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import build.bazel.remote.execution.v2.Platform;
import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import build.hearth.core.config.SandboxConfig;
import build.hearth.core.ops.WorkerReports;
import build.hearth.core.sandbox.SandboxCapabilities;
import build.hearth.core.sandbox.SandboxCapabilities.Part;
import build.hearth.grpc.WorkerTestServer;
import build.hearth.spi.worker.ActionOutcome;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A remote worker tells its scheduler what its sandbox does: the {@code network} it offers, read
 * from its runner after it is made, and the sandbox report the server lists.
 */
class SandboxRegistrationTest {
  private static final Duration WAIT = Duration.ofSeconds(10);

  private final TestRunner.Script script = new TestRunner.Script();
  private WorkerTestServer server;
  private WorkerAgent agent;

  @BeforeEach
  void start() {
    server = new WorkerTestServer();
  }

  @AfterEach
  void stop() {
    if (agent != null) {
      agent.close();
    }
    server.close();
  }

  private static Platform network(String value) {
    return Platform.newBuilder()
        .addProperties(Platform.Property.newBuilder().setName("network").setValue(value))
        .build();
  }

  @Test
  void theRunnersNetworkAndSandboxReachTheServer() throws Exception {
    SandboxCapabilities capabilities =
        new SandboxCapabilities(
            SandboxConfig.Mode.OPTIONAL,
            EnumSet.of(Part.MOUNT, Part.PID, Part.NETWORK, Part.USER),
            Map.of(Part.MEMORY, "no writable memory cgroup"),
            "none",
            "nobody (65534:65534)");
    agent =
        WorkerAgent.newBuilder()
            .endpoint(server.endpoint())
            .name("sandboxed")
            .slots(1)
            .properties(Map.of("OSFamily", List.of("linux")))
            .runner(script.factory())
            .runnerProperties(() -> Map.of("network", List.of("off")))
            .sandbox(() -> capabilities)
            .backOff(Duration.ofMillis(20), Duration.ofMillis(300))
            .random(new Random(7))
            .build();
    agent.start();
    await().atMost(WAIT).until(agent::isConnected);

    ActionOutcome offline =
        server.submitOn(network("off"), "killed", "ran offline").result().get(20, TimeUnit.SECONDS);
    Throwable online = null;
    try {
      server.submitOn(network("on"), "killed", "ran online").result().join();
    } catch (CompletionException e) {
      online = e.getCause();
    }

    assertThat(offline.message()).isEqualTo("ran offline");
    assertThat(online).isInstanceOf(HearthException.class);
    assertThat(((HearthException) online).code()).isEqualTo(StatusCode.FAILED_PRECONDITION);
    assertThat(online.getMessage()).contains("no connected worker offers network=on");
    WorkerReports.Sandbox listed =
        server.reports.snapshot().get("sandboxed").sandbox().orElseThrow();
    assertThat(listed).isEqualTo(WorkerReports.Sandbox.of(capabilities));
  }
}
