package build.hearth.grpc.reapi;

import static build.hearth.grpc.ExecutionTestServer.request;
import static build.hearth.grpc.ExecutionTestServer.response;
import static build.hearth.grpc.ExecutionTestServer.stage;
import static build.hearth.grpc.TestServer.assertStatus;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.DigestFunction;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.ExecuteRequest;
import build.bazel.remote.execution.v2.ExecuteResponse;
import build.bazel.remote.execution.v2.ExecutionPolicy;
import build.bazel.remote.execution.v2.ExecutionStage;
import build.bazel.remote.execution.v2.GetCapabilitiesRequest;
import build.bazel.remote.execution.v2.ServerCapabilities;
import build.bazel.remote.execution.v2.WaitExecutionRequest;
import build.hearth.api.Digest;
import build.hearth.api.StatusCode;
import build.hearth.grpc.ExecutionTestServer;
import build.hearth.grpc.TestExecutionService.TestExecution;
import build.hearth.grpc.common.Rpc;
import com.google.longrunning.Operation;
import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.PreconditionFailure;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ExecutionGrpcServiceTest {
  private static final Duration AWAIT = Duration.ofSeconds(5);

  private ExecutionTestServer server;

  @BeforeEach
  void start() {
    server = new ExecutionTestServer();
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private static ActionResult result(int exitCode) {
    return ActionResult.newBuilder().setExitCode(exitCode).build();
  }

  private ExecutionTestServer.Stream execute(ExecuteRequest request) {
    ExecutionTestServer.Stream stream = new ExecutionTestServer.Stream();
    server.executionAsync().execute(request, stream);
    return stream;
  }

  private ExecutionTestServer.Stream waitExecution(String name) {
    ExecutionTestServer.Stream stream = new ExecutionTestServer.Stream();
    server
        .executionAsync()
        .waitExecution(WaitExecutionRequest.newBuilder().setName(name).build(), stream);
    return stream;
  }

  private static void awaitMessages(ExecutionTestServer.Stream stream, int count) {
    await().atMost(AWAIT).until(() -> stream.received.size() >= count);
  }

  @Test
  void executeStreamsEachStageThenTheResponse() {
    Digest action = server.uploadAction("echo", "hello");
    ExecutionTestServer.Stream stream = execute(request(action));

    awaitMessages(stream, 1);
    TestExecution execution = server.executions.inFlight(action);
    assertThat(stage(stream.received.get(0))).isEqualTo(ExecutionStage.Value.QUEUED);
    execution.startExecuting();
    awaitMessages(stream, 2);
    ExecuteResponse response = ExecuteResponse.newBuilder().setResult(result(0)).build();
    execution.complete(response);
    stream.awaitEnd();

    List<Operation> received = stream.received;
    assertThat(received)
        .extracting(ExecutionTestServer::stage)
        .containsExactly(
            ExecutionStage.Value.QUEUED,
            ExecutionStage.Value.EXECUTING,
            ExecutionStage.Value.COMPLETED);
    assertThat(received).extracting(Operation::getName).containsOnly(execution.name());
    assertThat(received).extracting(Operation::getDone).containsExactly(false, false, true);
    for (Operation operation : received) {
      var metadata = ExecutionTestServer.metadata(operation);
      assertThat(metadata.getActionDigest()).isEqualTo(action.toProto());
      assertThat(metadata.getDigestFunction()).isEqualTo(DigestFunction.Value.SHA256);
    }
    assertThat(response(stream.last())).isEqualTo(response);
    // The call's watch ends with the stream, and a completed execution is never cancelled.
    await().atMost(AWAIT).until(() -> execution.openWatches() == 0);
    assertThat(execution.watchesTaken()).isEqualTo(1);
    assertThat(execution.cancels()).isZero();
  }

  @Test
  void aRequeuedActionIsReportedQueuedAgain() {
    Digest action = server.uploadAction("flaky-worker");
    ExecutionTestServer.Stream stream = execute(request(action));
    awaitMessages(stream, 1);
    TestExecution execution = server.executions.inFlight(action);

    execution.startExecuting();
    execution.requeue();
    execution.startExecuting();
    execution.complete(ExecuteResponse.newBuilder().setResult(result(0)).build());
    stream.awaitEnd();

    assertThat(stream.received)
        .extracting(ExecutionTestServer::stage)
        .containsExactly(
            ExecutionStage.Value.QUEUED,
            ExecutionStage.Value.EXECUTING,
            ExecutionStage.Value.QUEUED,
            ExecutionStage.Value.EXECUTING,
            ExecutionStage.Value.COMPLETED);
  }

  @Test
  void aCachedResultCompletesAtOnce() {
    Digest action = server.uploadAction("cached");
    server.actionCache.put(action, result(0));

    Iterator<Operation> replies = server.execution().execute(request(action));
    List<Operation> received = new ArrayList<>();
    replies.forEachRemaining(received::add);

    assertThat(received).hasSize(1);
    ExecuteResponse response = response(received.get(0));
    assertThat(response.getCachedResult()).isTrue();
    assertThat(response.getResult()).isEqualTo(result(0));
    assertThat(stage(received.get(0))).isEqualTo(ExecutionStage.Value.COMPLETED);
  }

  @Test
  void aFailedExecutionIsANormalResponseWithItsStatus() {
    Digest action = server.uploadAction("sleep", "3600");
    ExecutionTestServer.Stream stream = execute(request(action));
    awaitMessages(stream, 1);
    ExecuteResponse overTime =
        ExecuteResponse.newBuilder()
            .setResult(result(142))
            .setStatus(Rpc.rpcStatus(StatusCode.DEADLINE_EXCEEDED, "the command ran over 1s"))
            .build();

    server.executions.inFlight(action).complete(overTime);
    stream.awaitEnd();

    // Bazel reads DEADLINE_EXCEEDED from the response as a timeout of the action itself; as an
    // RPC error it would be retried as a transport failure.
    assertThat(response(stream.last())).isEqualTo(overTime);
    assertThat(stream.last().hasError()).isFalse();
  }

  @Test
  void cancellingTheCallClosesItsWatchAndCancelsTheExecution() {
    Digest action = server.uploadAction("long");
    ExecutionTestServer.Stream stream = execute(request(action));
    awaitMessages(stream, 1);
    TestExecution execution = server.executions.inFlight(action);
    assertThat(execution.openWatches()).isEqualTo(1);

    stream.cancel();

    await().atMost(AWAIT).until(() -> execution.cancels() == 1);
    assertThat(execution.openWatches()).isZero();
    assertThat(execution.result().join().getStatus().getCode())
        .isEqualTo(Status.Code.CANCELLED.value());
  }

  @Test
  void anExecutionLivesWhileAnotherClientStillFollowsIt() {
    Digest action = server.uploadAction("shared");
    ExecutionTestServer.Stream first = execute(request(action));
    ExecutionTestServer.Stream second = execute(request(action));
    awaitMessages(first, 1);
    awaitMessages(second, 1);
    TestExecution execution = server.executions.inFlight(action);
    assertThat(second.received.get(0).getName()).isEqualTo(execution.name());
    assertThat(execution.openWatches()).isEqualTo(2);

    first.cancel();
    await().atMost(AWAIT).until(() -> execution.openWatches() == 1);
    execution.complete(ExecuteResponse.newBuilder().setResult(result(0)).build());
    second.awaitEnd();

    assertThat(execution.cancels()).isZero();
    assertThat(response(second.last()).getResult()).isEqualTo(result(0));
  }

  @Test
  void waitExecutionFollowsARunningExecutionToItsEnd() {
    Digest action = server.uploadAction("wait-for-me");
    // Started without a call, as if the Execute stream that started it had broken.
    TestExecution execution = (TestExecution) server.executions.execute(request(action));
    execution.startExecuting();

    ExecutionTestServer.Stream stream = waitExecution(execution.name());
    awaitMessages(stream, 1);
    assertThat(stage(stream.received.get(0))).isEqualTo(ExecutionStage.Value.EXECUTING);
    assertThat(execution.openWatches()).isEqualTo(1);
    execution.complete(ExecuteResponse.newBuilder().setResult(result(3)).build());
    stream.awaitEnd();

    assertThat(stream.last().getName()).isEqualTo(execution.name());
    assertThat(response(stream.last()).getResult()).isEqualTo(result(3));
    await().atMost(AWAIT).until(() -> execution.openWatches() == 0);
  }

  @Test
  void waitExecutionOfACompletedExecutionAnswersAtOnce() {
    Digest action = server.uploadAction("done-already");
    TestExecution execution = (TestExecution) server.executions.execute(request(action));
    execution.complete(ExecuteResponse.newBuilder().setResult(result(0)).build());

    Iterator<Operation> replies =
        server
            .execution()
            .waitExecution(WaitExecutionRequest.newBuilder().setName(execution.name()).build());
    List<Operation> received = new ArrayList<>();
    replies.forEachRemaining(received::add);

    assertThat(received).hasSize(1);
    assertThat(response(received.get(0)).getResult()).isEqualTo(result(0));
  }

  @Test
  void waitExecutionOfAnUnknownNameIsNotFound() {
    assertStatus(
        () ->
            server
                .execution()
                .waitExecution(
                    WaitExecutionRequest.newBuilder().setName("operations/forgotten").build())
                .hasNext(),
        Status.Code.NOT_FOUND,
        "operations/forgotten",
        "Execute the action again");
  }

  @Test
  void aCacheOnlyInstanceDoesNotExecute() {
    Digest action = server.uploadAction("anything");
    assertStatus(
        () ->
            server
                .execution()
                .execute(request(action).toBuilder().setInstanceName("cache-only").build())
                .hasNext(),
        Status.Code.UNIMPLEMENTED,
        "instance \"cache-only\" does not execute actions; it is a cache only");
    assertThat(server.executions.requests).isEmpty();
  }

  @Test
  void aMissingActionIsAFailedPreconditionNamingTheBlob() {
    Digest action = Digest.of("never uploaded".getBytes(UTF_8));

    StatusRuntimeException e =
        assertStatus(
            () -> server.execution().execute(request(action)).hasNext(),
            Status.Code.FAILED_PRECONDITION,
            "not in the CAS");

    assertThat(missingSubjects(e))
        .containsExactly("blobs/" + action.hash() + "/" + action.sizeBytes());
  }

  @Test
  void aMissingCommandIsAFailedPreconditionNamingTheCommand() {
    Digest command = Digest.of("not uploaded either".getBytes(UTF_8));
    Digest inputRoot = server.cas.put(Directory.getDefaultInstance().toByteString());
    Digest action = server.cas.put(ExecutionTestServer.action(command, inputRoot).toByteString());

    StatusRuntimeException e =
        assertStatus(
            () -> server.execution().execute(request(action)).hasNext(),
            Status.Code.FAILED_PRECONDITION,
            "command");

    assertThat(missingSubjects(e))
        .containsExactly("blobs/" + command.hash() + "/" + command.sizeBytes());
  }

  /** The MISSING subjects of the PreconditionFailure of {@code e}, which must hold only those. */
  private static List<String> missingSubjects(StatusRuntimeException e) {
    com.google.rpc.Status status = StatusProto.fromThrowable(e);
    assertThat(status).as("status details of %s", e).isNotNull();
    assertThat(status.getDetailsCount()).isEqualTo(1);
    List<String> subjects = new ArrayList<>();
    for (Any detail : status.getDetailsList()) {
      PreconditionFailure failure;
      try {
        failure = detail.unpack(PreconditionFailure.class);
      } catch (InvalidProtocolBufferException ex) {
        throw new AssertionError(ex);
      }
      for (PreconditionFailure.Violation violation : failure.getViolationsList()) {
        assertThat(violation.getType()).isEqualTo("MISSING");
        subjects.add(violation.getSubject());
      }
    }
    return subjects;
  }

  @Test
  void aMalformedActionDigestIsInvalidArgument() {
    assertStatus(
        () ->
            server
                .execution()
                .execute(
                    ExecuteRequest.newBuilder()
                        .setActionDigest(
                            build.bazel.remote.execution.v2.Digest.newBuilder()
                                .setHash("xyz")
                                .setSizeBytes(3))
                        .build())
                .hasNext(),
        Status.Code.INVALID_ARGUMENT,
        "action_digest");
  }

  @Test
  void priorityIsClampedToTheAdvertisedRange() {
    Digest action = server.uploadAction("urgent");
    ExecutionTestServer.Stream stream =
        execute(
            request(action).toBuilder()
                .setExecutionPolicy(ExecutionPolicy.newBuilder().setPriority(-50_000))
                .build());
    awaitMessages(stream, 1);

    assertThat(server.executions.requests).hasSize(1);
    assertThat(server.executions.requests.get(0).getExecutionPolicy().getPriority())
        .isEqualTo(ExecutionGrpcService.MIN_PRIORITY);
    stream.cancel();
  }

  @Test
  void capabilitiesAdvertiseExecutionWhereItIsConfigured() {
    ServerCapabilities executing =
        server.capabilities().getCapabilities(GetCapabilitiesRequest.getDefaultInstance());
    var exec = executing.getExecutionCapabilities();
    assertThat(exec.getExecEnabled()).isTrue();
    assertThat(exec.getDigestFunction()).isEqualTo(DigestFunction.Value.SHA256);
    assertThat(exec.getDigestFunctionsList()).containsExactly(DigestFunction.Value.SHA256);
    assertThat(exec.getExecutionPriorityCapabilities().getPrioritiesList())
        .singleElement()
        .satisfies(
            range -> {
              assertThat(range.getMinPriority()).isEqualTo(ExecutionGrpcService.MIN_PRIORITY);
              assertThat(range.getMaxPriority()).isEqualTo(ExecutionGrpcService.MAX_PRIORITY);
            });
    assertThat(
            executing.getCacheCapabilities().getActionCacheUpdateCapabilities().getUpdateEnabled())
        .isTrue();

    var cacheOnly =
        server
            .capabilities()
            .getCapabilities(
                GetCapabilitiesRequest.newBuilder().setInstanceName("cache-only").build())
            .getExecutionCapabilities();
    assertThat(cacheOnly.getExecEnabled()).isFalse();
    assertThat(cacheOnly.hasExecutionPriorityCapabilities()).isFalse();
  }

  @Test
  void streamEndsEvenIfTheResultFutureFails() {
    Digest action = server.uploadAction("broken-core");
    ExecutionTestServer.Stream stream = execute(request(action));
    awaitMessages(stream, 1);
    TestExecution execution = server.executions.inFlight(action);

    execution.result().completeExceptionally(new IllegalStateException("core bug"));
    stream.awaitEnd();

    Operation last = stream.last();
    assertThat(last.getDone()).isTrue();
    assertThat(last.getError().getCode()).isEqualTo(Status.Code.INTERNAL.value());
    assertThat(last.getError().getMessage()).contains("core bug");
    await().atMost(AWAIT).until(() -> execution.openWatches() == 0);
  }

  @Test
  void anUnknownInstanceIsInvalidArgument() {
    ExecutionTestServer.Stream stream =
        execute(ExecuteRequest.newBuilder().setInstanceName("nope").build());
    Throwable thrown = catchThrowable(stream::awaitEnd);
    assertThat(thrown).isInstanceOf(CompletionException.class);
    assertThat(((StatusRuntimeException) thrown.getCause()).getStatus().getCode())
        .isEqualTo(Status.Code.INVALID_ARGUMENT);
  }
}
