package build.hearth.grpc.reapi;

import static build.hearth.grpc.ExecutionTestServer.response;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.ExecuteRequest;
import build.bazel.remote.execution.v2.ExecuteResponse;
import build.bazel.remote.execution.v2.WaitExecutionRequest;
import build.hearth.api.Digest;
import build.hearth.grpc.ExecutionTestServer;
import build.hearth.grpc.RawWorker;
import build.hearth.grpc.RemoteExecutionServer;
import build.hearth.grpc.common.Rpc;
import build.hearth.proto.workerapi.ActionFinished;
import build.hearth.proto.workerapi.AssignAction;
import build.hearth.proto.workerapi.SchedulerMessage;
import build.hearth.proto.workerapi.SchedulerMessage.KindCase;
import com.google.longrunning.CancelOperationRequest;
import io.grpc.Status;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Operations belong to clients: over a real socket, with a real execution service and a worker
 * driven by hand, two clients that merged onto one slow action each have their own operation, and
 * cancelling one detaches only its client.
 */
class MergedCancelTest {
  private static final Duration WAIT = Duration.ofSeconds(20);
  private static final Duration TICK = Duration.ofMillis(50);

  private RemoteExecutionServer server;
  private RawWorker worker;

  @BeforeEach
  void start() throws Exception {
    server = new RemoteExecutionServer();
    worker = new RawWorker(server.channel());
    worker.register("only", 1);
    worker.next(KindCase.REGISTERED);
  }

  @AfterEach
  void stop() {
    worker.close();
    server.close();
  }

  @Test
  void clientACancellingLeavesClientBsExecutionRunningToCompletion() throws Exception {
    Digest action = server.uploadAction(Duration.ofMinutes(1), "sleep", "10");
    ExecutionTestServer.Stream a = execute(action);
    AssignAction assigned = worker.nextWhileAlive(KindCase.ASSIGN, TICK).getAssign();
    ExecutionTestServer.Stream b = execute(action);
    String nameA = operationName(a);
    String nameB = operationName(b);
    assertThat(nameA).isNotEqualTo(nameB).startsWith("operations/");
    assertThat(server.scheduler.stats().executing()).isEqualTo(1); // merged: one action

    server.operations().cancelOperation(CancelOperationRequest.newBuilder().setName(nameA).build());

    // A's operation ends as CANCELLED; B's goes on, and the worker is not told to stop.
    a.awaitEnd();
    ExecuteResponse cancelled = response(a.last());
    assertThat(cancelled.getStatus().getCode()).isEqualTo(Status.Code.CANCELLED.value());
    assertThat(cancelled.getStatus().getMessage()).contains(nameA, "runs on for the other");
    assertThat(b.end).isNotDone();

    // The worker finishes; had the execution been cancelled, B would be answered CANCELLED.
    worker.finished(finished(assigned.getAssignmentId(), 0));
    b.awaitEnd();
    ExecuteResponse answer = response(b.last());
    assertThat(answer.getStatus().getCode()).isZero();
    assertThat(answer.getResult().getExitCode()).isZero();
    assertThat(server.actionCache.get(action)).isPresent();
    assertThat(response(a.last())).isEqualTo(cancelled);
  }

  @Test
  void aLoneClientCancellingCancelsTheExecution() throws Exception {
    Digest action = server.uploadAction(Duration.ofMinutes(1), "sleep", "10");
    ExecutionTestServer.Stream alone = execute(action);
    AssignAction assigned = worker.nextWhileAlive(KindCase.ASSIGN, TICK).getAssign();
    String name = operationName(alone);

    server.operations().cancelOperation(CancelOperationRequest.newBuilder().setName(name).build());

    SchedulerMessage cancel = worker.nextWhileAlive(KindCase.CANCEL, TICK);
    assertThat(cancel.getCancel().getAssignmentId()).isEqualTo(assigned.getAssignmentId());
    alone.awaitEnd();
    assertThat(response(alone.last()).getStatus().getCode())
        .isEqualTo(Status.Code.CANCELLED.value());
    worker.finished(
        ActionFinished.newBuilder()
            .setAssignmentId(assigned.getAssignmentId())
            .setStatus(Rpc.rpcStatus(build.hearth.api.StatusCode.CANCELLED, "cancelled"))
            .setResult(ActionResult.getDefaultInstance())
            .build());
    await().atMost(WAIT).until(() -> server.scheduler.stats().busySlots() == 0);
    assertThat(server.actionCache.get(action)).isEmpty();
  }

  @Test
  void aClientWhoseStreamDroppedReattachesWithWaitExecution() throws Exception {
    Digest action = server.uploadAction(Duration.ofMinutes(1), "sleep", "10");
    ExecutionTestServer.Stream a = execute(action);
    AssignAction assigned = worker.nextWhileAlive(KindCase.ASSIGN, TICK).getAssign();
    ExecutionTestServer.Stream b = execute(action);
    String nameB = operationName(b);

    // B's stream drops, as Bazel's does on a network hiccup; A still follows the execution.
    b.cancel();
    ExecutionTestServer.Stream again = new ExecutionTestServer.Stream();
    server
        .executionAsync()
        .waitExecution(WaitExecutionRequest.newBuilder().setName(nameB).build(), again);
    operationName(again);

    worker.finished(finished(assigned.getAssignmentId(), 0));
    again.awaitEnd();
    assertThat(again.last().getName()).isEqualTo(nameB);
    assertThat(response(again.last()).getStatus().getCode()).isZero();
    a.awaitEnd();
    assertThat(response(a.last()).getStatus().getCode()).isZero();
  }

  private ExecutionTestServer.Stream execute(Digest action) {
    ExecutionTestServer.Stream stream = new ExecutionTestServer.Stream();
    server
        .executionAsync()
        .execute(ExecuteRequest.newBuilder().setActionDigest(action.toProto()).build(), stream);
    return stream;
  }

  /** The name in the stream's first message, waiting for it while the worker stays alive. */
  private String operationName(ExecutionTestServer.Stream stream) {
    await()
        .atMost(WAIT)
        .until(
            () -> {
              worker.keepAlive();
              return !stream.received.isEmpty();
            });
    return stream.received.get(0).getName();
  }

  private static ActionFinished finished(String assignmentId, int exitCode) {
    return ActionFinished.newBuilder()
        .setAssignmentId(assignmentId)
        .setStatus(Rpc.OK)
        .setResult(ActionResult.newBuilder().setExitCode(exitCode))
        .build();
  }
}
