package build.hearth.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import build.bazel.remote.execution.v2.Platform;
import build.hearth.core.scheduler.Ticket;
import build.hearth.grpc.WorkerTestServer;
import build.hearth.spi.worker.ActionOutcome;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Workers' WarmProcesses reports over a real socket: from a {@link WorkerAgent} to the scheduler's
 * {@link build.hearth.core.scheduler.WarmWorkers}, and from there into the scheduler's choice of
 * worker. What the server does with hand-made reports is tested in grpc's {@code
 * build.hearth.grpc.workerapi.WarmProcessesTest}.
 */
class WarmProcessesTest {
  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final String KEY = "javac-17";
  private static final Platform JAVAC =
      Platform.newBuilder()
          .addProperties(
              Platform.Property.newBuilder().setName("persistentWorkerKey").setValue(KEY))
          .addProperties(
              Platform.Property.newBuilder().setName("persistentWorkerTool").setValue("javac"))
          .build();

  private final List<WorkerAgent> agents = new ArrayList<>();
  private final List<Ticket<ActionOutcome>> tickets = new ArrayList<>();
  private WorkerTestServer server;

  @BeforeEach
  void start() {
    server = new WorkerTestServer();
  }

  @AfterEach
  void stop() {
    tickets.forEach(Ticket::cancel);
    agents.forEach(WorkerAgent::close);
    server.close();
  }

  /** A connected agent whose runner records into {@code script}. */
  private WorkerAgent agent(String name, int slots, TestRunner.Script script) {
    WorkerAgent agent =
        WorkerAgent.newBuilder()
            .endpoint(server.endpoint())
            .name(name)
            .slots(slots)
            .runner(script.factory())
            .backOff(Duration.ofMillis(20), Duration.ofMillis(300))
            .random(new Random(7))
            .build();
    agents.add(agent);
    script.warmReporter = agent::reportWarmProcesses;
    agent.start();
    await().atMost(WAIT).until(agent::isConnected);
    return agent;
  }

  private Ticket<ActionOutcome> submit(Platform platform, String... arguments) {
    Ticket<ActionOutcome> ticket = server.submitOn(platform, arguments);
    tickets.add(ticket);
    return ticket;
  }

  @Test
  void anAgentsReportDrawsActionsOfItsKeyAndTheBurstSpillsOver() throws Exception {
    TestRunner.Script warmScript = new TestRunner.Script();
    TestRunner.Script coldScript = new TestRunner.Script();
    WorkerAgent warm = agent("warm", 2, warmScript);
    agent("cold", 3, coldScript);

    warm.reportWarmProcesses(Map.of(KEY, 1));
    await().atMost(WAIT).until(() -> server.warm.idle("warm").equals(Map.of(KEY, 1)));

    submit(JAVAC, "block", "first");
    assertThat(warmScript.started.poll(10, TimeUnit.SECONDS)).isEqualTo("block first");
    // The one idle process is taken: the next goes to the worker with the most free slots.
    submit(JAVAC, "block", "second");
    assertThat(coldScript.started.poll(10, TimeUnit.SECONDS)).isEqualTo("block second");
    assertThat(warmScript.started).isEmpty();
  }

  @Test
  void aReportMadeWhileRunningAnActionArrivesBeforeItsAnswer() throws Exception {
    TestRunner.Script script = new TestRunner.Script();
    agent("reporter", 1, script);

    Ticket<ActionOutcome> ticket = submit(JAVAC, "report-warm", KEY, "1");
    // Completes on the thread that handles the answer, so it sees what the scheduler knew then.
    CompletableFuture<Map<String, Integer>> idleWhenAnswered =
        ticket.result().thenApply(outcome -> server.warm.idle("reporter"));

    assertThat(idleWhenAnswered.get(10, TimeUnit.SECONDS)).isEqualTo(Map.of(KEY, 1));
  }

  @Test
  void onlyTheLatestOfManyReportsCounts() {
    WorkerAgent agent = agent("busy-reporter", 1, new TestRunner.Script());

    for (int i = 1; i <= 2000; i++) {
      agent.reportWarmProcesses(Map.of(KEY, i, "scalac", 2000 - i));
    }

    await().atMost(WAIT).until(() -> server.warm.idle("busy-reporter").equals(Map.of(KEY, 2000)));
  }

  @Test
  void theLatestStateIsSentAgainAfterTheAgentReconnects() {
    WorkerAgent agent = agent("reconnecting", 1, new TestRunner.Script());
    agent.reportWarmProcesses(Map.of(KEY, 3));
    await().atMost(WAIT).until(() -> server.warm.idle("reconnecting").equals(Map.of(KEY, 3)));

    server.stop();
    await().atMost(WAIT).until(() -> !agent.isConnected());
    await().atMost(WAIT).until(() -> server.warm.idle("reconnecting").isEmpty());
    agent.reportWarmProcesses(Map.of(KEY, 4));
    server.start();

    await().atMost(WAIT).until(agent::isConnected);
    await().atMost(WAIT).until(() -> server.warm.idle("reconnecting").equals(Map.of(KEY, 4)));
  }

  @Test
  void aStateReportedBeforeStartIsSentOnRegistration() {
    TestRunner.Script script = new TestRunner.Script();
    WorkerAgent agent =
        WorkerAgent.newBuilder()
            .endpoint(server.endpoint())
            .name("early")
            .slots(1)
            .runner(script.factory())
            .build();
    agents.add(agent);
    agent.reportWarmProcesses(Map.of(KEY, 2, "idle-none", 0));

    agent.start();

    await().atMost(WAIT).until(() -> server.warm.idle("early").equals(Map.of(KEY, 2)));
  }
}
