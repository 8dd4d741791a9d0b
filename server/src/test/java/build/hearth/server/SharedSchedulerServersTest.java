package build.hearth.server;

import static build.hearth.server.ReapiCalls.done;
import static build.hearth.server.ReapiCalls.execute;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import build.bazel.remote.execution.v2.ActionCacheGrpc;
import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.ExecuteResponse;
import build.bazel.remote.execution.v2.ExecutionGrpc;
import build.bazel.remote.execution.v2.GetActionResultRequest;
import build.bazel.remote.execution.v2.WaitExecutionRequest;
import build.hearth.agent.WorkerAgent;
import build.hearth.api.Digest;
import build.hearth.core.config.HearthConfig;
import build.hearth.redis.testing.RedisServer;
import com.google.longrunning.Operation;
import io.grpc.ManagedChannel;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two servers configured with one Redis (stores and scheduler state) are one service: an action
 * executed through one runs on the other's worker, its operation can be waited for on either, its
 * result is cached once it completes whichever server dies, and identical actions run once.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class SharedSchedulerServersTest {
  private static final Duration WAIT = Duration.ofSeconds(60);

  @TempDir Path dir;

  private RedisServer redis;
  private HearthServer a;
  private HearthServer b;
  private SharedService service;
  private final List<WorkerAgent> agents = new ArrayList<>();
  private final CountingRunner runner = new CountingRunner();

  @BeforeEach
  void start() {
    redis = RedisServer.start(dir.resolve("redis"));
    service = new SharedService(redis.uri());
    a = server();
    b = server();
  }

  private HearthServer server() {
    return service.start("30s");
  }

  @AfterEach
  void stop() throws InterruptedException {
    runner.release();
    agents.forEach(WorkerAgent::close);
    service.close();
    redis.close();
  }

  private ManagedChannel channel(HearthServer server) {
    return service.channel(server);
  }

  private void worker(HearthServer server, String name) {
    WorkerAgent agent =
        WorkerAgent.newBuilder()
            .endpoint("grpc://127.0.0.1:" + server.port())
            .name(name)
            .slots(4)
            .properties(Map.of("OSFamily", List.of("Linux")))
            .runner(casOf -> runner)
            .backOff(Duration.ofMillis(20), Duration.ofMillis(200))
            .build();
    agents.add(agent);
    agent.start();
    await().atMost(WAIT).until(agent::isConnected);
  }

  @Test
  void anActionExecutedThroughOneServerRunsOnTheOthersWorkerAndIsCachedForBoth() throws Exception {
    worker(b, "on-b");
    Digest action = action("hello");

    ExecuteResponse response = done(execute(channel(a), action));

    assertThat(response.getStatus().getCode()).isZero();
    assertThat(response.getResult().getStdoutRaw().toStringUtf8()).isEqualTo("ran hello");
    assertThat(runner.runs().get("hello")).hasValue(1);
    // Recorded by b, the worker's server; read back through a, and answered from cache by b.
    ActionResult cached =
        ActionCacheGrpc.newBlockingStub(channel(a))
            .getActionResult(
                GetActionResultRequest.newBuilder().setActionDigest(action.toProto()).build());
    assertThat(cached.getStdoutRaw().toStringUtf8()).isEqualTo("ran hello");
    assertThat(cached.getExecutionMetadata().hasQueuedTimestamp()).isTrue();
    assertThat(done(execute(channel(b), action)).getCachedResult()).isTrue();
    assertThat(runner.runs().get("hello")).hasValue(1);
  }

  @Test
  void anOperationExecutedThroughADeadServerIsWaitedForOnTheOtherAndRunsOnce() throws Exception {
    worker(b, "on-b");
    runner.hold();
    Digest action = action("slow");
    Iterator<Operation> stream = execute(channel(a), action);
    String name = stream.next().getName();
    await().atMost(WAIT).until(() -> runner.runs().containsKey("slow"));

    a.close();
    a = null;
    Iterator<Operation> waited =
        ExecutionGrpc.newBlockingStub(channel(b))
            .withDeadlineAfter(WAIT.toMillis(), TimeUnit.MILLISECONDS)
            .waitExecution(WaitExecutionRequest.newBuilder().setName(name).build());
    Operation first = waited.next();
    assertThat(first.getName()).isEqualTo(name);
    assertThat(first.getDone()).isFalse();
    runner.release();

    ExecuteResponse response = done(waited);
    assertThat(response.getResult().getStdoutRaw().toStringUtf8()).isEqualTo("ran slow");
    assertThat(runner.runs().get("slow")).hasValue(1);
  }

  @Test
  void identicalActionsExecutedThroughBothServersRunOnce() throws Exception {
    worker(a, "on-a");
    worker(b, "on-b");
    runner.hold();
    Digest action = action("shared");
    Iterator<Operation> throughA = execute(channel(a), action);
    throughA.next();
    await().atMost(WAIT).until(() -> runner.runs().containsKey("shared"));
    Iterator<Operation> throughB = execute(channel(b), action);
    throughB.next();
    runner.release();

    assertThat(done(throughA).getResult().getStdoutRaw().toStringUtf8()).isEqualTo("ran shared");
    assertThat(done(throughB).getResult().getStdoutRaw().toStringUtf8()).isEqualTo("ran shared");
    assertThat(runner.runs().get("shared")).hasValue(1);
  }

  private Digest action(String name) {
    return ReapiCalls.action(channel(b), name);
  }

  @Test
  void whileTheStateIsDownExecuteIsUnavailableAndReadyzNamesItThenBothServeAgain()
      throws Exception {
    worker(b, "on-b");
    assertThat(done(execute(channel(a), action("before"))).getStatus().getCode()).isZero();

    redis.stop();

    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> {
              HttpResponse<String> ready = readyz(a);
              assertThat(ready.statusCode()).as(ready.body()).isEqualTo(503);
            });
    // The stores are on the same Redis; whichever /readyz names first, the state is among them.
    assertThat(ExecutionStatus.of(() -> done(execute(channel(a), Digest.of(new byte[] {1, 2, 3})))))
        .satisfies(
            status -> {
              assertThat(status.getCode()).isEqualTo(io.grpc.Status.Code.UNAVAILABLE);
              assertThat(status.getDescription()).contains("127.0.0.1:" + redis.port());
            });

    redis.start();

    await().atMost(WAIT).untilAsserted(() -> assertThat(readyz(a).statusCode()).isEqualTo(200));
    await().atMost(WAIT).untilAsserted(() -> assertThat(readyz(b).statusCode()).isEqualTo(200));
    // A Redis without persistence comes back empty: upload again, as Bazel would.
    ExecuteResponse after = done(execute(channel(a), action("after")));
    assertThat(after.getResult().getStdoutRaw().toStringUtf8()).isEqualTo("ran after");
    assertThat(runner.runs().get("after")).hasValue(1);
  }

  @Test
  void readyzNamesTheSchedulersStateWhenOnlyItsRedisIsDown() throws Exception {
    String json =
        """
        {
          "blobStores": {"cas": {"type": "memory"}},
          "schedulers": {"main": {"state": {"type": "redis", "uri": "%s"}}},
          "servers": [ {
            "listen": "127.0.0.1:0",
            "instances": {"": {"cas": "cas", "execution": {"scheduler": "main"}}}
          } ]
        }
        """
            .formatted(redis.uri());
    try (HearthServer server = HearthServer.start(HearthConfig.parse(json, "the test"))) {
      await().atMost(WAIT).until(() -> readyz(server).statusCode() == 200);

      redis.stop();

      await()
          .atMost(WAIT)
          .untilAsserted(
              () -> {
                HttpResponse<String> ready = readyz(server);
                assertThat(ready.statusCode()).isEqualTo(503);
                assertThat(ready.body())
                    .startsWith("not ready: the shared state of scheduler 'main' is unavailable:")
                    .contains("127.0.0.1:" + redis.port());
              });
      redis.start();
      await().atMost(WAIT).until(() -> readyz(server).statusCode() == 200);
    }
  }

  private static HttpResponse<String> readyz(HearthServer server) throws Exception {
    return HttpClient.newHttpClient()
        .send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/readyz"))
                .timeout(Duration.ofSeconds(10))
                .build(),
            HttpResponse.BodyHandlers.ofString());
  }

  /** The gRPC status a call fails with. */
  private static final class ExecutionStatus {
    interface Call {
      void run() throws Exception;
    }

    static io.grpc.Status of(Call call) throws Exception {
      try {
        call.run();
      } catch (io.grpc.StatusRuntimeException e) {
        return e.getStatus();
      }
      throw new AssertionError("the call succeeded");
    }
  }
}
