package build.hearth.grpc.workerapi;

import static build.hearth.grpc.ExecutionTestServer.response;
import static org.assertj.core.api.Assertions.assertThat;

import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.ExecuteRequest;
import build.bazel.remote.execution.v2.ExecuteResponse;
import build.hearth.api.Digest;
import build.hearth.grpc.ExecutionTestServer;
import build.hearth.grpc.RawWorker;
import build.hearth.grpc.RemoteExecutionServer;
import build.hearth.grpc.common.Rpc;
import build.hearth.proto.workerapi.ActionFinished;
import build.hearth.proto.workerapi.AssignAction;
import build.hearth.proto.workerapi.SchedulerMessage.KindCase;
import io.grpc.Status;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Workers are not trusted with other workers' actions: a result counts only from the worker the
 * action was assigned to, on that assignment, and a worker that holds an assignment past the
 * action's timeout plus the grace loses it. Real execution service, real scheduler, hand-driven
 * worker streams over a real socket.
 */
class AssignmentTrustTest {
  private static final Duration TICK = Duration.ofMillis(50);

  private RemoteExecutionServer server;

  @AfterEach
  void stop() {
    if (server != null) {
      server.close();
    }
  }

  @Test
  void aResultForAnotherWorkersAssignmentIsRefusedAndNothingOfItIsCached() throws Exception {
    server = new RemoteExecutionServer();
    try (RawWorker owner = new RawWorker(server.channel());
        RawWorker forger = new RawWorker(server.channel())) {
      owner.register("owner", 1);
      owner.next(KindCase.REGISTERED);
      Digest action = server.uploadAction(Duration.ofMinutes(1), "compile", "a");
      ExecutionTestServer.Stream client = execute(action);
      AssignAction assigned = owner.next(KindCase.ASSIGN).getAssign();

      forger.register("forger", 1);
      forger.next(KindCase.REGISTERED);
      // The forger claims the owner's assignment, with a result that would be cached (exit 0).
      forger.finished(finished(assigned.getAssignmentId(), 0));

      // The forger's messages are handled in order: once its answer to its own action counted,
      // the forged one before it was handled too.
      Digest own = server.uploadAction(Duration.ofMinutes(1), "compile", "b");
      ExecutionTestServer.Stream ownClient = execute(own);
      AssignAction forgersOwn = forger.next(KindCase.ASSIGN).getAssign();
      forger.finished(finished(forgersOwn.getAssignmentId(), 0));
      ownClient.awaitEnd();
      assertThat(response(ownClient.last()).getResult().getExitCode()).isZero();

      assertThat(client.end).isNotDone();
      assertThat(server.actionCache.get(action)).isEmpty();

      // The owner's answer is the one that counts (exit 3: not cached either).
      owner.finished(finished(assigned.getAssignmentId(), 3));
      client.awaitEnd();
      ExecuteResponse answer = response(client.last());
      assertThat(answer.getResult().getExitCode()).isEqualTo(3);
      assertThat(server.actionCache.get(action)).isEmpty();
    }
  }

  @Test
  void aWorkerThatHoldsAnActionPastItsDeadlineLosesItToAnother() throws Exception {
    server = new RemoteExecutionServer(b -> b.assignmentGrace(Duration.ofMillis(300)));
    try (RawWorker hung = new RawWorker(server.channel());
        RawWorker healthy = new RawWorker(server.channel())) {
      hung.register("hung", 1);
      hung.next(KindCase.REGISTERED);
      Digest action = server.uploadAction(Duration.ofSeconds(1), "sleep", "forever");
      ExecutionTestServer.Stream client = execute(action);
      AssignAction first = hung.next(KindCase.ASSIGN).getAssign();

      // Alive (it keeps sending keep-alives) but it never answers: after 1s + 300ms the server
      // takes the action back and tells it to cancel.
      String cancelled = hung.nextWhileAlive(KindCase.CANCEL, TICK).getCancel().getAssignmentId();
      assertThat(cancelled).isEqualTo(first.getAssignmentId());
      assertThat(server.scheduler.stats().overdue()).isEqualTo(1);
      assertThat(server.scheduler.stats().requeued()).isEqualTo(1);
      assertThat(hung.isEnded()).isFalse();

      healthy.register("healthy", 1);
      healthy.next(KindCase.REGISTERED);
      AssignAction again = healthy.next(KindCase.ASSIGN).getAssign();
      // The hung worker's late answer is discarded.
      hung.finished(finished(first.getAssignmentId(), 0));
      healthy.finished(finished(again.getAssignmentId(), 4));

      client.awaitEnd();
      assertThat(response(client.last()).getResult().getExitCode()).isEqualTo(4);
      assertThat(server.actionCache.get(action)).isEmpty();
    }
  }

  @Test
  void withoutRetriesAnOverdueActionFailsWithDeadlineExceededNamingTheWorker() throws Exception {
    server =
        new RemoteExecutionServer(b -> b.maxRetries(0).assignmentGrace(Duration.ofMillis(300)));
    try (RawWorker hung = new RawWorker(server.channel())) {
      hung.register("stuck-worker", 1);
      hung.next(KindCase.REGISTERED);
      Digest action = server.uploadAction(Duration.ofSeconds(1), "sleep", "forever");
      ExecutionTestServer.Stream client = execute(action);
      hung.next(KindCase.ASSIGN);

      hung.nextWhileAlive(KindCase.CANCEL, TICK);
      client.awaitEnd();

      ExecuteResponse answer = response(client.last());
      assertThat(answer.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED.value());
      assertThat(answer.getStatus().getMessage())
          .contains("worker 'stuck-worker' held action")
          .contains("past its timeout of 1s plus the scheduler's assignmentGrace of 300ms")
          .contains("giving up after 0 retries");
      assertThat(hung.isEnded()).isFalse();
    }
  }

  private ExecutionTestServer.Stream execute(Digest action) {
    ExecutionTestServer.Stream stream = new ExecutionTestServer.Stream();
    server.executionAsync().execute(request(action), stream);
    return stream;
  }

  private static ExecuteRequest request(Digest action) {
    return ExecuteRequest.newBuilder().setActionDigest(action.toProto()).build();
  }

  private static ActionFinished finished(String assignmentId, int exitCode) {
    return ActionFinished.newBuilder()
        .setAssignmentId(assignmentId)
        .setStatus(Rpc.OK)
        .setResult(ActionResult.newBuilder().setExitCode(exitCode))
        .build();
  }
}
