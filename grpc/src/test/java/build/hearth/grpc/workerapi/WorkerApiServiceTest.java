package build.hearth.grpc.workerapi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import build.bazel.remote.execution.v2.ActionResult;
import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import build.hearth.core.ops.WorkerReports;
import build.hearth.core.scheduler.Ticket;
import build.hearth.grpc.RawWorker;
import build.hearth.grpc.WorkerTestServer;
import build.hearth.grpc.common.Rpc;
import build.hearth.proto.workerapi.ActionFinished;
import build.hearth.proto.workerapi.AssignAction;
import build.hearth.proto.workerapi.Drain;
import build.hearth.proto.workerapi.Register;
import build.hearth.proto.workerapi.SandboxRefusal;
import build.hearth.proto.workerapi.SandboxReport;
import build.hearth.proto.workerapi.SchedulerMessage.KindCase;
import build.hearth.proto.workerapi.WorkerMessage;
import build.hearth.proto.workerapi.WorkerStatus;
import build.hearth.spi.worker.ActionOutcome;
import build.hearth.testing.FakeClock;
import io.grpc.Status;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The server side of the worker API, driven by hand-made worker streams over a real socket. */
class WorkerApiServiceTest {
  private static final Duration WAIT = Duration.ofSeconds(10);

  private WorkerTestServer server;

  @BeforeEach
  void start() {
    server = new WorkerTestServer();
  }

  @AfterEach
  void stop() {
    server.close();
  }

  @Test
  void registersAndForwardsAssignments() throws Exception {
    try (RawWorker worker = new RawWorker(server.channel())) {
      worker.register("raw-1", 1);
      assertThat(worker.next(KindCase.REGISTERED).getRegistered().getKeepAliveInterval().getNanos())
          .isEqualTo((int) WorkerTestServer.KEEP_ALIVE.toNanos());

      Ticket<ActionOutcome> ticket = server.submit("upper", "whatever");
      AssignAction assign = worker.next(KindCase.ASSIGN).getAssign();
      assertThat(assign.getCommand().getArgumentsList()).containsExactly("upper", "whatever");
      assertThat(assign.getInstanceName()).isEmpty();
      assertThat(assign.getTimeout().getSeconds()).isEqualTo(60);

      ActionResult result = ActionResult.newBuilder().setExitCode(3).build();
      worker.finished(
          ActionFinished.newBuilder()
              .setAssignmentId(assign.getAssignmentId())
              .setStatus(Rpc.OK)
              .setResult(result)
              .build());

      ActionOutcome outcome = ticket.result().get(10, TimeUnit.SECONDS);
      assertThat(outcome.ran()).isTrue();
      assertThat(outcome.result()).isEqualTo(result);
    }
  }

  @Test
  void finishedStatusesMapToOutcomesOrFailures() throws Exception {
    try (RawWorker worker = new RawWorker(server.channel())) {
      worker.register("raw-2", 1);
      worker.next(KindCase.REGISTERED);

      Ticket<ActionOutcome> overtime = server.submit("overtime");
      AssignAction first = worker.next(KindCase.ASSIGN).getAssign();
      ActionResult partial = ActionResult.newBuilder().setExitCode(-1).build();
      worker.finished(
          ActionFinished.newBuilder()
              .setAssignmentId(first.getAssignmentId())
              .setStatus(Rpc.rpcStatus(StatusCode.DEADLINE_EXCEEDED, "ran over 1m"))
              .setResult(partial)
              .build());
      ActionOutcome outcome = overtime.result().get(10, TimeUnit.SECONDS);
      assertThat(outcome.code()).isEqualTo(StatusCode.DEADLINE_EXCEEDED);
      assertThat(outcome.message()).isEqualTo("ran over 1m");
      assertThat(outcome.result()).isEqualTo(partial);

      Ticket<ActionOutcome> refused = server.submit("bad");
      AssignAction second = worker.next(KindCase.ASSIGN).getAssign();
      worker.finished(
          ActionFinished.newBuilder()
              .setAssignmentId(second.getAssignmentId())
              .setStatus(Rpc.rpcStatus(StatusCode.FAILED_PRECONDITION, "2 inputs are missing"))
              .build());
      HearthException failure = failure(refused);
      assertThat(failure.code()).isEqualTo(StatusCode.FAILED_PRECONDITION);
      assertThat(failure.getMessage()).isEqualTo("2 inputs are missing");
    }
  }

  @Test
  void theMessageOfACommandThatRanIsKept() throws Exception {
    try (RawWorker worker = new RawWorker(server.channel())) {
      worker.register("raw-oom", 1);
      worker.next(KindCase.REGISTERED);

      Ticket<ActionOutcome> ticket = server.submit("allocate");
      AssignAction assign = worker.next(KindCase.ASSIGN).getAssign();
      ActionResult killed = ActionResult.newBuilder().setExitCode(137).build();
      String message = "the command was killed by its memory limit of 64.0 MiB";
      worker.finished(
          ActionFinished.newBuilder()
              .setAssignmentId(assign.getAssignmentId())
              .setStatus(Rpc.rpcStatus(StatusCode.OK, message))
              .setResult(killed)
              .build());

      ActionOutcome outcome = ticket.result().get(10, TimeUnit.SECONDS);
      assertThat(outcome.ran()).isTrue();
      assertThat(outcome.message()).isEqualTo(message);
      assertThat(outcome.result()).isEqualTo(killed);
    }
  }

  @Test
  void theSandboxAWorkerRegistersWithIsListedUntilItLeaves() throws Exception {
    SandboxReport sandbox =
        SandboxReport.newBuilder()
            .setMode("optional")
            .addAllAvailable(List.of("mount", "pid", "ipc", "uts", "user"))
            .addRefused(SandboxRefusal.newBuilder().setPart("network").setReason("no netlink"))
            .setCgroups("none")
            .setActionUser("user namespace of worker (1000)")
            .build();
    try (RawWorker worker = new RawWorker(server.channel())) {
      worker.send(
          WorkerMessage.newBuilder()
              .setRegister(
                  Register.newBuilder().setName("sandboxed").setSlots(1).setSandbox(sandbox))
              .build());
      worker.next(KindCase.REGISTERED);

      WorkerReports.Sandbox listed =
          server.reports.snapshot().get("sandboxed").sandbox().orElseThrow();
      assertThat(listed.mode()).isEqualTo("optional");
      assertThat(listed.available()).containsExactly("mount", "pid", "ipc", "uts", "user");
      assertThat(listed.refused()).containsExactly(Map.entry("network", "no netlink"));
      assertThat(listed.cgroups()).isEqualTo("none");
      assertThat(listed.actionUser()).isEqualTo("user namespace of worker (1000)");

      // A status report later keeps what the worker said of its sandbox. The stream's messages
      // are handled in order, so once the answer that follows it counts, the status has too.
      Ticket<ActionOutcome> ticket = server.submit("after-status");
      AssignAction assign = worker.next(KindCase.ASSIGN).getAssign();
      worker.send(WorkerMessage.newBuilder().setStatus(WorkerStatus.getDefaultInstance()).build());
      worker.finished(
          ActionFinished.newBuilder()
              .setAssignmentId(assign.getAssignmentId())
              .setStatus(Rpc.OK)
              .setResult(ActionResult.getDefaultInstance())
              .build());
      ticket.result().get(10, TimeUnit.SECONDS);
      assertThat(server.reports.snapshot().get("sandboxed").sandbox()).hasValue(listed);
    }
    await().atMost(WAIT).until(() -> !server.reports.snapshot().containsKey("sandboxed"));
  }

  @Test
  void aSandboxReportOverTheBoundsIsDroppedAndTheWorkerStays() throws Exception {
    SandboxReport huge =
        SandboxReport.newBuilder().setMode("optional").setActionUser("x".repeat(5000)).build();
    try (RawWorker worker = new RawWorker(server.channel())) {
      worker.send(
          WorkerMessage.newBuilder()
              .setRegister(Register.newBuilder().setName("boastful").setSlots(1).setSandbox(huge))
              .build());
      worker.next(KindCase.REGISTERED);

      assertThat(server.reports.snapshot().get("boastful").sandbox()).isEmpty();
      Ticket<ActionOutcome> ticket = server.submit("still-works");
      AssignAction assign = worker.next(KindCase.ASSIGN).getAssign();
      worker.finished(
          ActionFinished.newBuilder()
              .setAssignmentId(assign.getAssignmentId())
              .setStatus(Rpc.OK)
              .setResult(ActionResult.getDefaultInstance())
              .build());
      assertThat(ticket.result().get(10, TimeUnit.SECONDS).ran()).isTrue();
    }
  }

  @Test
  void aDrainingWorkerIsAssignedNothingNewAndItsAnswerCounts() throws Exception {
    try (RawWorker worker = new RawWorker(server.channel())) {
      worker.register("raw-drain", 2);
      worker.next(KindCase.REGISTERED);
      Ticket<ActionOutcome> running = server.submit("upper", "running");
      AssignAction assign = worker.next(KindCase.ASSIGN).getAssign();

      worker.send(WorkerMessage.newBuilder().setDrain(Drain.getDefaultInstance()).build());
      await()
          .atMost(WAIT)
          .until(
              () -> {
                WorkerReports.Report report = server.reports.snapshot().get("raw-drain");
                return report != null && report.draining();
              });
      Ticket<ActionOutcome> next = server.submit("upper", "next");

      assertThat(next.stage()).isEqualTo(Ticket.Stage.QUEUED);
      worker.finished(
          ActionFinished.newBuilder()
              .setAssignmentId(assign.getAssignmentId())
              .setStatus(Rpc.OK)
              .setResult(ActionResult.getDefaultInstance())
              .build());
      assertThat(running.result().get(10, TimeUnit.SECONDS).ran()).isTrue();
      // Both slots are free now, and still nothing comes.
      assertThat(next.stage()).isEqualTo(Ticket.Stage.QUEUED);
      assertThat(worker.isEnded()).isFalse();
    }
  }

  @Test
  void drainAcceptedFollowsTheAssignmentsSentBeforeTheSchedulerReadDrain() throws Exception {
    try (RawWorker worker = new RawWorker(server.channel())) {
      worker.register("raw-race", 1);
      worker.next(KindCase.REGISTERED);
      server.holdDrains();
      worker.send(WorkerMessage.newBuilder().setDrain(Drain.getDefaultInstance()).build());
      assertThat(server.awaitHeldDrain(WAIT)).isTrue();
      Ticket<ActionOutcome> late = server.submit("upper", "late");
      AssignAction assign = worker.next(KindCase.ASSIGN).getAssign();

      server.releaseDrains();
      // Strictly the next message but keep-alives: nothing is assigned after it.
      worker.next(KindCase.DRAIN_ACCEPTED);
      worker.finished(
          ActionFinished.newBuilder()
              .setAssignmentId(assign.getAssignmentId())
              .setStatus(Rpc.OK)
              .setResult(ActionResult.getDefaultInstance())
              .build());
      assertThat(late.result().get(10, TimeUnit.SECONDS).ran()).isTrue();
      assertThat(server.scheduler.stats().requeued()).isZero();
      assertThat(server.submit("upper", "next").stage()).isEqualTo(Ticket.Stage.QUEUED);
    }
  }

  private static Ticket<ActionOutcome> submitCommandOf(WorkerTestServer on, int bytes) {
    return on.scheduler.submit(
        build.hearth.core.scheduler.ActionRequest.of(
            "big",
            build.bazel.remote.execution.v2.Platform.getDefaultInstance(),
            on.task("upper", "x".repeat(bytes))));
  }

  @Test
  void aWorkerIsSentNoAssignmentLargerThanTheMessagesItAccepts() throws Exception {
    try (RawWorker worker = new RawWorker(server.channel())) {
      worker.send(
          WorkerMessage.newBuilder()
              .setRegister(
                  Register.newBuilder()
                      .setName("raw-small")
                      .setSlots(2)
                      .setMaxMessageBytes(4 << 20))
              .build());
      worker.next(KindCase.REGISTERED);

      HearthException refused = failure(submitCommandOf(server, 5 << 20));

      assertThat(refused.code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
      assertThat(refused.getMessage())
          .contains(
              "more than the 4194304 worker 'raw-small' can be sent",
              "workerApi.maxAssignmentSize is 34603008",
              "the worker's maxMessageSize 4194304");
      // The stream is unaffected: the next action reaches the worker.
      server.submit("upper", "small");
      worker.next(KindCase.ASSIGN);
      assertThat(worker.isEnded()).isFalse();
    }
  }

  @Test
  void theServersAssignmentBoundHoldsForAWorkerThatAcceptsMore() throws Exception {
    try (WorkerTestServer bounded = new WorkerTestServer(4 << 20);
        RawWorker worker = new RawWorker(bounded.channel())) {
      worker.register("raw-older", 1); // says nothing of its bound: 40 MiB, as older workers
      worker.next(KindCase.REGISTERED);

      HearthException refused = failure(submitCommandOf(bounded, 5 << 20));

      assertThat(refused.code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
      assertThat(refused.getMessage())
          .contains(
              "more than the 4194304 worker 'raw-older' can be sent",
              "workerApi.maxAssignmentSize is 4194304",
              "maxMessageSize 41943040");
      bounded.submit("upper", "small");
      worker.next(KindCase.ASSIGN);
    }
  }

  @Test
  void aNegativeMessageBoundIsRefusedAtRegistration() throws Exception {
    try (RawWorker worker = new RawWorker(server.channel())) {
      worker.send(
          WorkerMessage.newBuilder()
              .setRegister(
                  Register.newBuilder().setName("raw-bad").setSlots(1).setMaxMessageBytes(-1))
              .build());
      Status status = worker.awaitEnd(WAIT);
      assertThat(status.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
      assertThat(status.getDescription()).contains("max_message_bytes -1");
    }
  }

  @Test
  void drainBeforeRegisterIsRefused() throws Exception {
    try (RawWorker worker = new RawWorker(server.channel())) {
      worker.send(WorkerMessage.newBuilder().setDrain(Drain.getDefaultInstance()).build());
      Status status = worker.awaitEnd(WAIT);
      assertThat(status.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
      assertThat(status.getDescription()).contains("first message", "Register", "Drain");
    }
  }

  @Test
  void anUnknownAssignmentIsIgnored() throws Exception {
    try (RawWorker worker = new RawWorker(server.channel())) {
      worker.register("raw-3", 1);
      worker.next(KindCase.REGISTERED);
      worker.finished(
          ActionFinished.newBuilder()
              .setAssignmentId("no-such-assignment")
              .setStatus(Rpc.OK)
              .build());
      worker.keepAlive();

      // Still connected: the next action reaches it.
      server.submit("upper", "x");
      worker.next(KindCase.ASSIGN);
      assertThat(worker.isEnded()).isFalse();
    }
  }

  @Test
  void theFirstMessageMustBeAValidRegister() throws Exception {
    try (RawWorker worker = new RawWorker(server.channel())) {
      worker.keepAlive();
      Status status = worker.awaitEnd(WAIT);
      assertThat(status.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
      assertThat(status.getDescription()).contains("first message", "Register");
    }
    try (RawWorker worker = new RawWorker(server.channel())) {
      worker.register("", 1);
      Status status = worker.awaitEnd(WAIT);
      assertThat(status.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
      assertThat(status.getDescription()).contains("name is empty");
    }
    try (RawWorker worker = new RawWorker(server.channel())) {
      worker.register("no-slots", 0);
      Status status = worker.awaitEnd(WAIT);
      assertThat(status.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
      assertThat(status.getDescription()).contains("no-slots", "0 slots");
    }
    try (RawWorker worker = new RawWorker(server.channel())) {
      worker.register("twice", 1);
      worker.next(KindCase.REGISTERED);
      worker.send(
          WorkerMessage.newBuilder()
              .setRegister(Register.newBuilder().setName("twice").setSlots(1))
              .build());
      Status status = worker.awaitEnd(WAIT);
      assertThat(status.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
      assertThat(status.getDescription()).contains("Register twice");
    }
    assertThat(server.scheduler.stats().workers()).isZero();
  }

  @Test
  void aDuplicateNameIsRefused() throws Exception {
    try (RawWorker first = new RawWorker(server.channel());
        RawWorker second = new RawWorker(server.channel())) {
      first.register("twin", 1);
      first.next(KindCase.REGISTERED);

      second.register("twin", 2);
      Status status = second.awaitEnd(WAIT);

      assertThat(status.getCode()).isEqualTo(Status.Code.ALREADY_EXISTS);
      assertThat(status.getDescription()).contains("'twin'", "already connected");
      assertThat(first.isEnded()).isFalse();
      assertThat(server.scheduler.stats().slots()).isEqualTo(1);
    }
  }

  @Test
  void aGatewayRefusalEndsTheStreamWithItsStatus() throws Exception {
    server.scheduler.close(); // connecting to a closed scheduler is UNAVAILABLE
    try (RawWorker worker = new RawWorker(server.channel())) {
      worker.register("late", 1);
      Status status = worker.awaitEnd(WAIT);
      assertThat(status.getCode()).isEqualTo(Status.Code.UNAVAILABLE);
      assertThat(status.getDescription()).contains("late");
    }
  }

  @Test
  void aSilentWorkerIsDisconnectedAndItsActionQueuedAgain() throws Exception {
    try (RawWorker silent = new RawWorker(server.channel());
        RawWorker healthy = new RawWorker(server.channel())) {
      silent.register("silent", 1);
      silent.next(KindCase.REGISTERED);
      Ticket<ActionOutcome> ticket = server.submit("upper", "y");
      silent.next(KindCase.ASSIGN);

      // It sends nothing more; three keep-alive intervals later the server gives up on it.
      Status status = silent.awaitEnd(WAIT);
      assertThat(status.getCode()).isEqualTo(Status.Code.UNAVAILABLE);
      assertThat(status.getDescription()).contains("silent", "sent nothing");
      await().atMost(WAIT).until(() -> server.scheduler.stats().requeued() == 1);
      assertThat(ticket.stage()).isEqualTo(Ticket.Stage.QUEUED);

      healthy.register("healthy", 1);
      healthy.next(KindCase.REGISTERED);
      AssignAction again = healthy.next(KindCase.ASSIGN).getAssign();
      healthy.finished(
          ActionFinished.newBuilder()
              .setAssignmentId(again.getAssignmentId())
              .setStatus(Rpc.OK)
              .setResult(ActionResult.getDefaultInstance())
              .build());
      assertThat(ticket.result().get(10, TimeUnit.SECONDS).ran()).isTrue();
    }
  }

  @Test
  void aWorkerThatKeepsTalkingStaysConnected() throws Exception {
    try (RawWorker worker = new RawWorker(server.channel())) {
      worker.register("chatty", 1);
      worker.next(KindCase.REGISTERED);
      // Answer the server's keep-alives for well over three intervals.
      for (int i = 0; i < 8; i++) {
        worker.next(KindCase.KEEP_ALIVE);
        worker.keepAlive();
      }
      assertThat(worker.isEnded()).isFalse();
      assertThat(server.scheduler.stats().workers()).isEqualTo(1);
    }
  }

  @Test
  void aStepOfTheWallClockDisconnectsNobody() throws Exception {
    FakeClock clock = new FakeClock();
    try (WorkerTestServer onFakeTime = new WorkerTestServer(clock);
        RawWorker worker = new RawWorker(onFakeTime.channel())) {
      worker.register("punctual", 1);
      worker.next(KindCase.REGISTERED);
      // The clock jumps an hour ahead, as after a suspended VM resumes or NTP steps it, while
      // the worker keeps answering every keep-alive: it stays connected.
      clock.advance(Duration.ofHours(1));
      for (int i = 0; i < 6; i++) {
        worker.next(KindCase.KEEP_ALIVE);
        worker.keepAlive();
      }
      assertThat(worker.isEnded()).isFalse();
      assertThat(onFakeTime.scheduler.stats().workers()).isEqualTo(1);

      // Silent from now on, it is dropped after three ticks, however the clock stands.
      Status status = worker.awaitEnd(WAIT);
      assertThat(status.getCode()).isEqualTo(Status.Code.UNAVAILABLE);
      assertThat(status.getDescription())
          .contains("punctual", "sent nothing for 3 keep-alive intervals of 200 ms");
    }
  }

  @Test
  void endingTheStreamDisconnectsTheWorker() throws Exception {
    RawWorker worker = new RawWorker(server.channel());
    worker.register("leaving", 2);
    worker.next(KindCase.REGISTERED);
    Ticket<ActionOutcome> ticket = server.submit("upper", "z");
    worker.next(KindCase.ASSIGN);

    worker.close(); // cancels the call

    await().atMost(WAIT).until(() -> server.scheduler.stats().workers() == 0);
    assertThat(server.scheduler.stats().requeued()).isEqualTo(1);
    assertThat(ticket.stage()).isEqualTo(Ticket.Stage.QUEUED);
  }

  private static HearthException failure(Ticket<ActionOutcome> ticket) throws Exception {
    try {
      ticket.result().get(10, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      assertThat(e.getCause()).isInstanceOf(HearthException.class);
      return (HearthException) e.getCause();
    }
    throw new AssertionError("the action did not fail");
  }
}
