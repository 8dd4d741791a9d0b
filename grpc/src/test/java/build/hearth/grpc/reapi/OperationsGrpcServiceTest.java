package build.hearth.grpc.reapi;

import static build.hearth.grpc.ExecutionTestServer.request;
import static build.hearth.grpc.ExecutionTestServer.response;
import static build.hearth.grpc.ExecutionTestServer.stage;
import static build.hearth.grpc.TestServer.assertStatus;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.ExecuteResponse;
import build.bazel.remote.execution.v2.ExecutionStage;
import build.hearth.api.Digest;
import build.hearth.grpc.ExecutionTestServer;
import build.hearth.grpc.LoopbackServer;
import build.hearth.grpc.TestExecutionService.TestExecution;
import com.google.longrunning.CancelOperationRequest;
import com.google.longrunning.DeleteOperationRequest;
import com.google.longrunning.GetOperationRequest;
import com.google.longrunning.ListOperationsRequest;
import com.google.longrunning.Operation;
import com.google.longrunning.WaitOperationRequest;
import com.google.protobuf.Empty;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class OperationsGrpcServiceTest {
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

  /** An execution started without a call following it. */
  private TestExecution started(String argument) {
    Digest action = server.uploadAction("run", argument);
    return (TestExecution) server.executions.execute(request(action));
  }

  private Operation get(String name) {
    return server.operations().getOperation(GetOperationRequest.newBuilder().setName(name).build());
  }

  private static com.google.protobuf.Duration millis(long millis) {
    return com.google.protobuf.Duration.newBuilder()
        .setSeconds(millis / 1000)
        .setNanos((int) (millis % 1000) * 1_000_000)
        .build();
  }

  @Test
  void getOperationReturnsTheCurrentState() {
    TestExecution execution = started("snapshot");

    Operation queued = get(execution.name());
    assertThat(queued.getName()).isEqualTo(execution.name());
    assertThat(queued.getDone()).isFalse();
    assertThat(stage(queued)).isEqualTo(ExecutionStage.Value.QUEUED);

    execution.startExecuting();
    assertThat(stage(get(execution.name()))).isEqualTo(ExecutionStage.Value.EXECUTING);

    ExecuteResponse response =
        ExecuteResponse.newBuilder().setResult(ActionResult.newBuilder().setExitCode(1)).build();
    execution.complete(response);
    Operation done = get(execution.name());
    assertThat(stage(done)).isEqualTo(ExecutionStage.Value.COMPLETED);
    assertThat(response(done)).isEqualTo(response);
    // Looking does not follow: no watch was taken.
    assertThat(execution.watchesTaken()).isZero();
  }

  @Test
  void getOperationOfAnUnknownNameIsNotFound() {
    assertStatus(() -> get("operations/unknown"), Status.Code.NOT_FOUND, "operations/unknown");
  }

  @Test
  void cancelOperationCancelsTheExecution() {
    TestExecution execution = started("cancel-me");

    Empty empty =
        server
            .operations()
            .cancelOperation(CancelOperationRequest.newBuilder().setName(execution.name()).build());

    assertThat(empty).isEqualTo(Empty.getDefaultInstance());
    assertThat(execution.cancels()).isEqualTo(1);
    assertThat(response(get(execution.name())).getStatus().getCode())
        .isEqualTo(Status.Code.CANCELLED.value());
  }

  @Test
  void cancelOperationOfAnUnknownNameIsNotFound() {
    assertStatus(
        () ->
            server
                .operations()
                .cancelOperation(CancelOperationRequest.newBuilder().setName("gone").build()),
        Status.Code.NOT_FOUND,
        "gone");
  }

  @Test
  void waitOperationReturnsNotDoneWhenTheTimeoutPasses() {
    TestExecution execution = started("slow");

    Operation operation =
        server
            .operations()
            .waitOperation(
                WaitOperationRequest.newBuilder()
                    .setName(execution.name())
                    .setTimeout(millis(200))
                    .build());

    assertThat(operation.getDone()).isFalse();
    assertThat(stage(operation)).isEqualTo(ExecutionStage.Value.QUEUED);
    assertThat(execution.cancels()).isZero();
  }

  @Test
  void waitOperationAnswersWhenTheExecutionCompletes() {
    TestExecution execution = started("quick");
    CompletableFuture<Operation> answer = new CompletableFuture<>();
    server
        .operationsAsync()
        .withDeadlineAfter(LoopbackServer.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
        .waitOperation(
            WaitOperationRequest.newBuilder()
                .setName(execution.name())
                .setTimeout(millis(60_000))
                .build(),
            observer(answer));

    // The server is waiting once it hangs on the result.
    await().atMost(AWAIT).until(() -> execution.result().getNumberOfDependents() > 0);
    ExecuteResponse response =
        ExecuteResponse.newBuilder().setResult(ActionResult.newBuilder().setExitCode(0)).build();
    execution.complete(response);

    Operation operation = answer.orTimeout(AWAIT.toMillis(), TimeUnit.MILLISECONDS).join();
    assertThat(response(operation)).isEqualTo(response);
  }

  @Test
  void manyShortWaitsHangOneCallbackOnTheExecution() {
    TestExecution execution = started("polled");
    for (int i = 0; i < 5; i++) {
      Operation operation =
          server
              .operations()
              .waitOperation(
                  WaitOperationRequest.newBuilder()
                      .setName(execution.name())
                      .setTimeout(millis(20))
                      .build());
      assertThat(operation.getDone()).isFalse();
    }
    assertThat(execution.result().getNumberOfDependents()).isEqualTo(1);
  }

  @Test
  void waitOperationWithAZeroTimeoutAnswersAtOnce() {
    TestExecution execution = started("now");
    Operation operation =
        server
            .operations()
            .waitOperation(
                WaitOperationRequest.newBuilder()
                    .setName(execution.name())
                    .setTimeout(millis(0))
                    .build());
    assertThat(operation.getDone()).isFalse();
  }

  @Test
  void waitOperationRefusesANegativeTimeout() {
    TestExecution execution = started("negative");
    assertStatus(
        () ->
            server
                .operations()
                .waitOperation(
                    WaitOperationRequest.newBuilder()
                        .setName(execution.name())
                        .setTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(-1))
                        .build()),
        Status.Code.INVALID_ARGUMENT,
        "negative");
  }

  @Test
  void waitOperationOfAnUnknownNameIsNotFound() {
    assertStatus(
        () ->
            server
                .operations()
                .waitOperation(WaitOperationRequest.newBuilder().setName("missing").build()),
        Status.Code.NOT_FOUND,
        "missing");
  }

  @Test
  void listAndDeleteAreUnimplemented() {
    assertStatus(
        () -> server.operations().listOperations(ListOperationsRequest.getDefaultInstance()),
        Status.Code.UNIMPLEMENTED,
        "ListOperations is not supported");
    assertStatus(
        () ->
            server
                .operations()
                .deleteOperation(DeleteOperationRequest.newBuilder().setName("x").build()),
        Status.Code.UNIMPLEMENTED,
        "DeleteOperation is not supported");
  }

  private static StreamObserver<Operation> observer(CompletableFuture<Operation> answer) {
    return new StreamObserver<>() {
      @Override
      public void onNext(Operation value) {
        answer.complete(value);
      }

      @Override
      public void onError(Throwable t) {
        answer.completeExceptionally(t);
      }

      @Override
      public void onCompleted() {}
    };
  }
}
