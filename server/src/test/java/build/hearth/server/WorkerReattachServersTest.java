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
import build.bazel.remote.execution.v2.Platform;
import build.bazel.remote.execution.v2.WaitExecutionRequest;
import build.hearth.agent.WorkerAgent;
import build.hearth.api.Digest;
import build.hearth.proto.workerapi.ActionFinished;
import build.hearth.proto.workerapi.Register;
import build.hearth.proto.workerapi.SchedulerMessage;
import build.hearth.proto.workerapi.WorkerApiGrpc;
import build.hearth.proto.workerapi.WorkerMessage;
import build.hearth.redis.testing.RedisServer;
import com.google.longrunning.Operation;
import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A worker whose server dies re-attaches through another server of the service and delivers what it
 * was running there, so the action runs once; a worker that comes back after its lease lapsed finds
 * its action queued again and its late answer discarded.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class WorkerReattachServersTest {
  private static final Duration WAIT = Duration.ofSeconds(60);

  @TempDir Path dir;

  private RedisServer redis;
  private HearthServer a;
  private HearthServer b;
  private SharedService service;
  private final List<WorkerAgent> agents = new ArrayList<>();
  private final CountingRunner runner = new CountingRunner();

  @BeforeEach
  void startRedis() {
    redis = RedisServer.start(dir.resolve("redis"));
    service = new SharedService(redis.uri());
  }

  private HearthServer server(String workerLease) {
    return service.start(workerLease);
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

  private WorkerAgent worker(String name, HearthServer... servers) {
    List<String> endpoints = new ArrayList<>();
    for (HearthServer server : servers) {
      endpoints.add("grpc://127.0.0.1:" + server.port());
    }
    WorkerAgent agent =
        WorkerAgent.newBuilder()
            .endpoints(endpoints)
            .name(name)
            .slots(2)
            .properties(Map.of("OSFamily", List.of("Linux")))
            .runner(casOf -> runner)
            .backOff(Duration.ofMillis(20), Duration.ofMillis(200))
            .build();
    agents.add(agent);
    agent.start();
    await().atMost(WAIT).until(agent::isConnected);
    return agent;
  }

  @Test
  void aWorkerWhoseServerClosedDeliversItsResultThroughTheOtherAndTheActionRunsOnce()
      throws Exception {
    a = server("30s");
    b = server("30s");
    worker("roaming", a, b);
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
    assertThat(waited.next().getDone()).isFalse();
    // The worker re-attaches through b, naming the action it still runs, and b adopts it; its
    // answer, whether it ends before or after the re-attachment, goes through b.
    runner.release();

    ExecuteResponse response = done(waited);
    assertThat(response.getResult().getStdoutRaw().toStringUtf8()).isEqualTo("ran slow");
    assertThat(runner.runs().get("slow")).hasValue(1);
    assertThat(runner.cancelled()).isEmpty();
  }

  @Test
  void aWorkerBackAfterItsLeaseLapsedFindsItsActionQueuedAgainAndItsAnswerIgnored()
      throws Exception {
    a = server("2s");
    b = server("2s");
    Digest action = action("lost");
    BlockingQueue<SchedulerMessage> toLate = new LinkedBlockingQueue<>();
    StreamObserver<WorkerMessage> late = rawWorker(a, "late", List.of(), toLate);
    Iterator<Operation> stream = execute(channel(b), action);
    String name = stream.next().getName();
    SchedulerMessage assigned = next(toLate, SchedulerMessage.KindCase.ASSIGN);
    String executionId = assigned.getAssign().getAssignmentId();

    a.close();
    a = null;
    // Its lease lapses; b queues the action again and the worker of b runs it, once.
    worker("steady", b);
    ExecuteResponse response = done(stream);
    assertThat(response.getResult().getStdoutRaw().toStringUtf8()).isEqualTo("ran lost");
    assertThat(runner.runs().get("lost")).hasValue(1);

    BlockingQueue<SchedulerMessage> toBack = new LinkedBlockingQueue<>();
    StreamObserver<WorkerMessage> back = rawWorker(b, "late", List.of(executionId), toBack);
    SchedulerMessage registered = next(toBack, SchedulerMessage.KindCase.REGISTERED);
    assertThat(registered.getRegistered().getAdoptedList()).isEmpty();
    assertThat(registered.getRegistered().hasReattachGrace()).isTrue();
    back.onNext(
        WorkerMessage.newBuilder()
            .setFinished(
                ActionFinished.newBuilder()
                    .setAssignmentId(executionId)
                    .setResult(
                        ActionResult.newBuilder()
                            .setStdoutRaw(ByteString.copyFromUtf8("stale answer"))))
            .build());

    // The stale answer changed nothing: the operation and the cache keep the real run's result.
    Iterator<Operation> again =
        ExecutionGrpc.newBlockingStub(channel(b))
            .withDeadlineAfter(WAIT.toMillis(), TimeUnit.MILLISECONDS)
            .waitExecution(WaitExecutionRequest.newBuilder().setName(name).build());
    assertThat(done(again).getResult().getStdoutRaw().toStringUtf8()).isEqualTo("ran lost");
    ActionResult cached =
        ActionCacheGrpc.newBlockingStub(channel(b))
            .getActionResult(
                GetActionResultRequest.newBuilder().setActionDigest(action.toProto()).build());
    assertThat(cached.getStdoutRaw().toStringUtf8()).isEqualTo("ran lost");
    assertThat(runner.runs().get("lost")).hasValue(1);
    late.onCompleted();
    back.onCompleted();
  }

  /** A worker speaking the protocol by hand, to hold an assignment without running it. */
  private StreamObserver<WorkerMessage> rawWorker(
      HearthServer server, String name, List<String> running, BlockingQueue<SchedulerMessage> in) {
    StreamObserver<WorkerMessage> out =
        WorkerApiGrpc.newStub(channel(server))
            .connect(
                new StreamObserver<>() {
                  @Override
                  public void onNext(SchedulerMessage message) {
                    in.add(message);
                  }

                  @Override
                  public void onError(Throwable t) {}

                  @Override
                  public void onCompleted() {}
                });
    out.onNext(
        WorkerMessage.newBuilder()
            .setRegister(
                Register.newBuilder()
                    .setName(name)
                    .setSlots(1)
                    .addProperties(
                        Platform.Property.newBuilder().setName("OSFamily").setValue("Linux"))
                    .addAllRunning(running))
            .build());
    return out;
  }

  private static SchedulerMessage next(
      BlockingQueue<SchedulerMessage> in, SchedulerMessage.KindCase kind)
      throws InterruptedException {
    while (true) {
      SchedulerMessage message = in.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
      assertThat(message).as("a " + kind + " message").isNotNull();
      if (message.getKindCase() == kind) {
        return message;
      }
    }
  }

  private Digest action(String name) {
    return ReapiCalls.action(channel(a != null ? a : b), name);
  }
}
