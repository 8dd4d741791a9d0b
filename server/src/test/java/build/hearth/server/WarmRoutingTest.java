package build.hearth.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import build.bazel.remote.execution.v2.Action;
import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.BatchUpdateBlobsRequest;
import build.bazel.remote.execution.v2.BatchUpdateBlobsResponse;
import build.bazel.remote.execution.v2.Command;
import build.bazel.remote.execution.v2.ContentAddressableStorageGrpc;
import build.bazel.remote.execution.v2.ExecuteRequest;
import build.bazel.remote.execution.v2.ExecuteResponse;
import build.bazel.remote.execution.v2.ExecutionGrpc;
import build.bazel.remote.execution.v2.Platform;
import build.hearth.agent.WorkerAgent;
import build.hearth.api.Digest;
import build.hearth.core.config.HearthConfig;
import build.hearth.core.execution.ActionRunner;
import build.hearth.core.execution.Cancellation;
import build.hearth.spi.worker.ActionOutcome;
import build.hearth.spi.worker.ExecutionTask;
import com.google.longrunning.Operation;
import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A server built from a configuration routes persistent-worker actions by what remote workers
 * report: its scheduler, which lists only {@code OSFamily}, accepts the persistent-worker
 * properties, and the worker API passes the agents' reports to that scheduler's scorer.
 */
class WarmRoutingTest {
  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final String KEY = "javac-17";

  private final BlockingQueue<String> ran = new LinkedBlockingQueue<>();
  private final List<WorkerAgent> agents = new ArrayList<>();
  private HearthServer server;
  private ManagedChannel channel;

  @BeforeEach
  void start() {
    server =
        HearthServer.start(
            HearthConfig.parse(
                """
                {
                  "blobStores": { "cas": { "type": "memory" } },
                  "schedulers": { "main": { "properties": { "OSFamily": "exact" } } },
                  "servers": [ {
                    "listen": "127.0.0.1:0",
                    "workerApi": { "scheduler": "main" },
                    "instances": { "": { "cas": "cas", "execution": { "scheduler": "main" } } }
                  } ]
                }
                """,
                "test"));
    channel = ManagedChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
  }

  @AfterEach
  void stop() throws InterruptedException {
    agents.forEach(WorkerAgent::close);
    channel.shutdownNow();
    channel.awaitTermination(5, TimeUnit.SECONDS);
    server.close();
  }

  private WorkerAgent agent(String name, int slots) {
    AtomicReference<WorkerAgent> self = new AtomicReference<>();
    WorkerAgent agent =
        WorkerAgent.newBuilder()
            .endpoint("grpc://127.0.0.1:" + server.port())
            .name(name)
            .slots(slots)
            .properties(Map.of("OSFamily", List.of("Linux")))
            .runner(casOf -> new NamingRunner(name, ran, self))
            .backOff(Duration.ofMillis(20), Duration.ofMillis(200))
            .build();
    self.set(agent);
    agents.add(agent);
    agent.start();
    await().atMost(WAIT).until(agent::isConnected);
    return agent;
  }

  @Test
  void anActionGoesToTheAgentReportingAnIdleProcessForItsKey() throws Exception {
    agent("warm", 1);
    // Reported while running, so it reaches the scheduler before the action's answer, and so
    // before Execute returns.
    assertThat(execute("warm-up")).isEqualTo("warm");
    agent("cold", 4);

    assertThat(execute("first", "persistentWorkerKey", KEY, "persistentWorkerTool", "javac"))
        .isEqualTo("warm");
    // The warm process is taken now, and "warm" has a single slot besides: "cold" gets the rest.
    assertThat(execute("second", "persistentWorkerKey", KEY)).isEqualTo("cold");
  }

  @Test
  void withoutAReportTheWorkerWithMoreFreeSlotsRunsIt() throws Exception {
    agent("cold", 4);
    agent("warm", 1);

    assertThat(execute("only", "persistentWorkerKey", KEY, "persistentWorkerProtocol", "json"))
        .isEqualTo("cold");
  }

  /** Executes a command named {@code name} with the given properties; the agent that ran it. */
  private String execute(String name, String... properties) throws InterruptedException {
    Platform.Builder platform = Platform.newBuilder().addProperties(property("OSFamily", "Linux"));
    for (int i = 0; i < properties.length; i += 2) {
      platform.addProperties(property(properties[i], properties[i + 1]));
    }
    Command command = Command.newBuilder().addArguments(name).build();
    Action action =
        Action.newBuilder()
            .setCommandDigest(upload(command).toProto())
            .setInputRootDigest(Digest.of(new byte[0]).toProto())
            .setDoNotCache(true)
            .setPlatform(platform)
            .build();
    Iterator<Operation> stream =
        ExecutionGrpc.newBlockingStub(channel)
            .withDeadlineAfter(WAIT.toMillis(), TimeUnit.MILLISECONDS)
            .execute(
                ExecuteRequest.newBuilder()
                    .setActionDigest(upload(action).toProto())
                    .setSkipCacheLookup(true)
                    .build());
    Operation done = null;
    while (stream.hasNext()) {
      Operation operation = stream.next();
      if (operation.getDone()) {
        done = operation;
      }
    }
    assertThat(done).as("the done operation of " + name).isNotNull();
    assertThat(done.hasError()).as(done.getError().getMessage()).isFalse();
    try {
      assertThat(done.getResponse().unpack(ExecuteResponse.class).getStatus().getCode()).isZero();
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new AssertionError(e);
    }
    String record = ran.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    assertThat(record).as("the run of " + name).endsWith(" ran " + name);
    return record.substring(0, record.indexOf(' '));
  }

  private Digest upload(Message message) {
    ByteString bytes = message.toByteString();
    Digest digest = Digest.of(bytes);
    BatchUpdateBlobsResponse response =
        ContentAddressableStorageGrpc.newBlockingStub(channel)
            .batchUpdateBlobs(
                BatchUpdateBlobsRequest.newBuilder()
                    .addRequests(
                        BatchUpdateBlobsRequest.Request.newBuilder()
                            .setDigest(digest.toProto())
                            .setData(bytes))
                    .build());
    assertThat(response.getResponses(0).getStatus().getCode()).isZero();
    return digest;
  }

  private static Platform.Property property(String name, String value) {
    return Platform.Property.newBuilder().setName(name).setValue(value).build();
  }

  /**
   * Records "AGENT ran COMMAND" and succeeds at once; the command {@code warm-up} also reports an
   * idle process of {@link #KEY}, as a persistent worker would after starting one.
   */
  private record NamingRunner(
      String agent, BlockingQueue<String> ran, AtomicReference<WorkerAgent> self)
      implements ActionRunner {
    @Override
    public ActionOutcome run(ExecutionTask task, Cancellation cancellation) {
      String command = task.command().getArguments(0);
      if (command.equals("warm-up")) {
        self.get().reportWarmProcesses(Map.of(KEY, 1));
      }
      ran.add(agent + " ran " + command);
      return ActionOutcome.completed(ActionResult.newBuilder().setExitCode(0).build());
    }

    @Override
    public void close() {}
  }
}
