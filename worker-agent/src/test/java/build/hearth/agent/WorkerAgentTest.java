package build.hearth.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import build.bazel.remote.execution.v2.OutputFile;
import build.hearth.api.Digest;
import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import build.hearth.core.ops.WorkerReports;
import build.hearth.core.scheduler.Ticket;
import build.hearth.grpc.RawWorker;
import build.hearth.grpc.WorkerTestServer;
import build.hearth.proto.workerapi.Registered;
import build.hearth.proto.workerapi.SchedulerMessage;
import build.hearth.proto.workerapi.WorkerApiGrpc;
import build.hearth.proto.workerapi.WorkerMessage;
import build.hearth.spi.worker.ActionOutcome;
import com.google.protobuf.ByteString;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link WorkerAgent} against a real server over a loopback socket: registration, running actions
 * through the remote CAS, cancellation, losing and regaining the scheduler.
 */
class WorkerAgentTest {
  private static final Duration WAIT = Duration.ofSeconds(10);

  private final TestRunner.Script script = new TestRunner.Script();
  private final List<WorkerAgent> agents = new ArrayList<>();
  private WorkerTestServer server;

  @BeforeEach
  void start() {
    server = new WorkerTestServer();
  }

  @AfterEach
  void stop() {
    agents.forEach(WorkerAgent::close);
    server.close();
  }

  private WorkerAgent agent(String name, int slots) {
    return agent(name, slots, script);
  }

  private WorkerAgent agent(String name, int slots, TestRunner.Script script) {
    WorkerAgent agent =
        WorkerAgent.newBuilder()
            .endpoint(server.endpoint())
            .name(name)
            .slots(slots)
            .properties(Map.of("OSFamily", List.of("Linux")))
            .runner(script.factory())
            .backOff(Duration.ofMillis(20), Duration.ofMillis(300))
            .random(new Random(42))
            .build();
    agents.add(agent);
    agent.start();
    return agent;
  }

  private WorkerAgent connected(String name, int slots) {
    WorkerAgent agent = agent(name, slots);
    await().atMost(WAIT).until(agent::isConnected);
    return agent;
  }

  @Test
  void runsAnActionReadingAndWritingTheRemoteCas() throws Exception {
    Digest input = server.cas.put(ByteString.copyFromUtf8("hello, worker"));
    connected("agent-1", 2);
    assertThat(server.scheduler.stats().slots()).isEqualTo(2);

    Ticket<ActionOutcome> ticket = server.submit("upper", input.toString());
    ActionOutcome outcome = ticket.result().get(20, TimeUnit.SECONDS);

    assertThat(outcome.ran()).isTrue();
    OutputFile out = outcome.result().getOutputFiles(0);
    assertThat(server.cas.get(Digest.fromProto(out.getDigest())).toStringUtf8())
        .isEqualTo("HELLO, WORKER");
  }

  @Test
  void withSeveralEndpointsItMovesOnFromOneThatRefusesAndRunsThroughTheNext() throws Exception {
    int deadPort;
    try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
      deadPort = socket.getLocalPort();
    }
    Digest input = server.cas.put(ByteString.copyFromUtf8("two ways"));
    WorkerAgent agent =
        WorkerAgent.newBuilder()
            .endpoints(List.of("grpc://127.0.0.1:" + deadPort, server.endpoint()))
            .name("agent-failover")
            .slots(1)
            .properties(Map.of("OSFamily", List.of("Linux")))
            .runner(script.factory())
            .backOff(Duration.ofMillis(20), Duration.ofMillis(300))
            .random(new Random(42))
            .build();
    agents.add(agent);
    agent.start();
    await().atMost(WAIT).until(agent::isConnected);

    // Its CAS calls follow it to the server it is attached to.
    ActionOutcome outcome =
        server.submit("upper", input.toString()).result().get(20, TimeUnit.SECONDS);
    OutputFile out = outcome.result().getOutputFiles(0);
    assertThat(server.cas.get(Digest.fromProto(out.getDigest())).toStringUtf8())
        .isEqualTo("TWO WAYS");
  }

  @Test
  void runsAsManyActionsAtOnceAsItHasSlots() throws Exception {
    connected("agent-slots", 3);
    List<Ticket<ActionOutcome>> tickets = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      tickets.add(server.submit("block", "slot-" + i));
    }

    await().atMost(WAIT).until(() -> script.started.size() == 3);
    tickets.forEach(Ticket::cancel);

    await().atMost(WAIT).until(() -> script.cancelled.get() == 3);
    await().atMost(WAIT).until(() -> server.scheduler.stats().busySlots() == 0);
  }

  @Test
  void aCommandAtTheServersBoundRunsAndTheWorkersOtherActionsAreUnaffected() throws Exception {
    // Megabytes take a while to cross a busy machine: no keep-alive must time out meanwhile.
    server.close();
    server = new WorkerTestServer(Duration.ofSeconds(10));
    connected("agent-big", 2);
    Ticket<ActionOutcome> running = server.submit("block", "keeps-running");
    assertThat(script.started.poll(10, TimeUnit.SECONDS)).isEqualTo("block keeps-running");
    Digest input = server.cas.put(ByteString.copyFromUtf8("big"));
    // A Command of exactly the 16 MiB the execution service accepts; its assignment is larger.
    int commandBytes = 16 << 20;
    String padding = "x".repeat(commandBytes - 200);
    int size = command("upper", input.toString(), padding).getSerializedSize();
    padding = "x".repeat(padding.length() + commandBytes - size);
    assertThat(command("upper", input.toString(), padding).getSerializedSize())
        .isEqualTo(commandBytes);

    Ticket<ActionOutcome> big =
        server.scheduler.submit(
            build.hearth.core.scheduler.ActionRequest.of(
                "big",
                build.bazel.remote.execution.v2.Platform.getDefaultInstance(),
                server.task("upper", input.toString(), padding)));

    assertThat(big.result().get(20, TimeUnit.SECONDS).ran()).isTrue();
    assertThat(running.result()).isNotDone();
    assertThat(server.scheduler.stats().requeued()).isZero();
    running.cancel();
    await().atMost(WAIT).until(() -> script.cancelled.get() == 1);
  }

  @Test
  void anAssignmentTooBigForAWorkerFailsOnlyThatAction() throws Exception {
    // Megabytes take a while to cross a busy machine: no keep-alive must time out meanwhile.
    server.close();
    server = new WorkerTestServer(Duration.ofSeconds(10));
    connected("agent-huge", 2);
    Ticket<ActionOutcome> running = server.submit("block", "stays");
    assertThat(script.started.poll(10, TimeUnit.SECONDS)).isEqualTo("block stays");
    Digest input = server.cas.put(ByteString.copyFromUtf8("huge"));
    String padding = "x".repeat(34 << 20);

    Ticket<ActionOutcome> huge =
        server.scheduler.submit(
            build.hearth.core.scheduler.ActionRequest.of(
                "huge",
                build.bazel.remote.execution.v2.Platform.getDefaultInstance(),
                server.task("upper", input.toString(), padding)));

    HearthException refused = failure(huge);
    assertThat(refused.code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
    assertThat(refused.getMessage())
        .contains("bytes, more than the", "can be sent", "workerApi.maxAssignmentSize");
    assertThat(running.result()).isNotDone();
    assertThat(server.scheduler.stats().requeued()).isZero();
    running.cancel();
    await().atMost(WAIT).until(() -> script.cancelled.get() == 1);
  }

  @Test
  void cancellingATicketReachesTheRunner() throws Exception {
    connected("agent-cancel", 1);
    Ticket<ActionOutcome> ticket = server.submit("block", "cancel-me");
    assertThat(script.started.poll(10, TimeUnit.SECONDS)).isEqualTo("block cancel-me");

    ticket.cancel();

    await().atMost(WAIT).until(() -> script.cancelled.get() == 1);
    assertThat(failure(ticket).code()).isEqualTo(StatusCode.CANCELLED);
    // The answer freed the only slot: the next action runs.
    Digest input = server.cas.put(ByteString.copyFromUtf8("next"));
    assertThat(server.submit("upper", input.toString()).result().get(20, TimeUnit.SECONDS).ran())
        .isTrue();
  }

  @Test
  void theMessageOfACommandThatRanReachesTheServer() throws Exception {
    connected("agent-message", 1);
    String message = "the command was killed by its memory limit of 64.0 MiB";

    ActionOutcome outcome = server.submit("killed", message).result().get(20, TimeUnit.SECONDS);

    assertThat(outcome.ran()).isTrue();
    assertThat(outcome.result().getExitCode()).isEqualTo(137);
    assertThat(outcome.message()).isEqualTo(message);
  }

  @Test
  void theRunnersErrorsAndOutcomesKeepTheirCodes() throws Exception {
    connected("agent-codes", 2);

    HearthException failure =
        failure(server.submit("fail", "FAILED_PRECONDITION", "input x is missing"));
    assertThat(failure.code()).isEqualTo(StatusCode.FAILED_PRECONDITION);
    assertThat(failure.getMessage()).isEqualTo("input x is missing");

    ActionOutcome overtime = server.submit("overtime").result().get(20, TimeUnit.SECONDS);
    assertThat(overtime.code()).isEqualTo(StatusCode.DEADLINE_EXCEEDED);
    assertThat(overtime.message()).isEqualTo("the command ran over its timeout");
    assertThat(server.cas.get(Digest.fromProto(overtime.result().getStdoutDigest())).toStringUtf8())
        .isEqualTo("partial output");

    HearthException internal = failure(server.submit("unknown-command"));
    assertThat(internal.code()).isEqualTo(StatusCode.INTERNAL);
    assertThat(internal.getMessage()).contains("unknown test command");
  }

  @Test
  void closingTheAgentQueuesItsActionAgainForAnotherWorker() throws Exception {
    Digest input = server.cas.put(ByteString.copyFromUtf8("moved"));
    WorkerAgent first = connected("agent-first", 1);
    Ticket<ActionOutcome> ticket = server.submit("block-once", "close", input.toString());
    script.started.poll(10, TimeUnit.SECONDS);

    first.close();

    await().atMost(WAIT).until(() -> server.scheduler.stats().requeued() == 1);
    assertThat(script.cancelled.get()).isEqualTo(1);
    assertThat(script.closed.get()).isEqualTo(1);
    assertThat(first.isConnected()).isFalse();

    connected("agent-second", 1);
    ActionOutcome outcome = ticket.result().get(20, TimeUnit.SECONDS);
    assertThat(server.cas.get(Digest.fromProto(outcome.result().getOutputFiles(0).getDigest())))
        .isEqualTo(ByteString.copyFromUtf8("MOVED"));
  }

  @Test
  void aDrainingWorkerGetsNothingNewAndDeliversTheResultOfWhatItRuns() throws Exception {
    Digest input = server.cas.put(ByteString.copyFromUtf8("elsewhere"));
    WorkerAgent draining = connected("agent-draining", 2);
    Ticket<ActionOutcome> running = server.submit("gate", "long");
    assertThat(script.started.poll(10, TimeUnit.SECONDS)).isEqualTo("gate long");

    CompletableFuture<Boolean> drained =
        CompletableFuture.supplyAsync(() -> draining.drain(Duration.ofSeconds(30)));
    await()
        .atMost(WAIT)
        .until(
            () -> {
              WorkerReports.Report report = server.reports.snapshot().get("agent-draining");
              return report != null && report.draining();
            });
    Ticket<ActionOutcome> next = server.submit("upper", input.toString());

    // The draining worker has a free slot, and still the action waits for another worker.
    assertThat(next.stage()).isEqualTo(Ticket.Stage.QUEUED);
    TestRunner.Script other = new TestRunner.Script();
    await().atMost(WAIT).until(agent("agent-other", 1, other)::isConnected);
    ActionOutcome moved = next.result().get(20, TimeUnit.SECONDS);
    assertThat(server.cas.get(Digest.fromProto(moved.result().getOutputFiles(0).getDigest())))
        .isEqualTo(ByteString.copyFromUtf8("ELSEWHERE"));
    assertThat(other.started).containsExactly("upper " + input);

    script.release("long");
    assertThat(running.result().get(20, TimeUnit.SECONDS).result().getExitCode()).isZero();
    assertThat(drained.get(20, TimeUnit.SECONDS)).isTrue();
    assertThat(script.started).isEmpty();
    assertThat(server.scheduler.stats().requeued()).isZero();
  }

  @Test
  void anAssignmentSentJustBeforeTheSchedulerReadDrainRunsThereAndLosesNoAttempt()
      throws Exception {
    Digest input = server.cas.put(ByteString.copyFromUtf8("in flight"));
    WorkerAgent draining = connected("agent-race", 1);
    server.holdDrains();
    CompletableFuture<Boolean> drained =
        CompletableFuture.supplyAsync(() -> draining.drain(Duration.ofSeconds(30)));
    // Drain is written and read by the worker API, but the scheduler has not been told.
    assertThat(server.awaitHeldDrain(WAIT)).isTrue();
    Ticket<ActionOutcome> late = server.submit("upper", input.toString());
    await().atMost(WAIT).until(() -> late.stage() == Ticket.Stage.EXECUTING);
    // The worker holds nothing running, yet it must not end its stream: the scheduler has not
    // confirmed the drain, so an assignment may be (and here is) on its way.
    assertThat(drained).isNotDone();

    server.releaseDrains();
    assertThat(drained.get(20, TimeUnit.SECONDS)).isTrue();
    // What the agent's owner does next: end the stream. Nothing may be left in flight.
    draining.close();

    ActionOutcome outcome = late.result().get(20, TimeUnit.SECONDS);
    assertThat(server.cas.get(Digest.fromProto(outcome.result().getOutputFiles(0).getDigest())))
        .isEqualTo(ByteString.copyFromUtf8("IN FLIGHT"));
    assertThat(script.started).containsExactly("upper " + input);
    assertThat(server.scheduler.stats().requeued()).isZero();
  }

  @Test
  void anAgentWithASmallerMessageBoundIsSentNoLargerAssignment() throws Exception {
    WorkerAgent small =
        WorkerAgent.newBuilder()
            .endpoint(server.endpoint())
            .name("agent-small-messages")
            .slots(2)
            .maxInboundMessageBytes(4 << 20)
            .runner(script.factory())
            .backOff(Duration.ofMillis(20), Duration.ofMillis(300))
            .random(new Random(42))
            .build();
    agents.add(small);
    small.start();
    await().atMost(WAIT).until(small::isConnected);
    Ticket<ActionOutcome> running = server.submit("block", "keeps-running");
    assertThat(script.started.poll(10, TimeUnit.SECONDS)).isEqualTo("block keeps-running");
    Digest input = server.cas.put(ByteString.copyFromUtf8("five"));

    // Under the server's 33 MiB, over the agent's 4 MiB: sent, it would break the agent's stream.
    Ticket<ActionOutcome> big =
        server.scheduler.submit(
            build.hearth.core.scheduler.ActionRequest.of(
                "big",
                build.bazel.remote.execution.v2.Platform.getDefaultInstance(),
                server.task("upper", input.toString(), "x".repeat(5 << 20))));

    HearthException refused = failure(big);
    assertThat(refused.code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
    assertThat(refused.getMessage()).contains("the worker's maxMessageSize 4194304");
    assertThat(small.isConnected()).isTrue();
    assertThat(running.result()).isNotDone();
    assertThat(server.scheduler.stats().requeued()).isZero();
    assertThatThrownBy(() -> WorkerAgent.newBuilder().maxInboundMessageBytes(1 << 20))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxMessageSize must be at least 4194304");
    running.cancel();
    await().atMost(WAIT).until(() -> script.cancelled.get() == 1);
  }

  @Test
  void aBrokenConnectionIsNoticedAndTheAgentReconnects() throws Exception {
    Digest input = server.cas.put(ByteString.copyFromUtf8("again"));
    WorkerAgent agent = connected("agent-broken", 1);
    Ticket<ActionOutcome> ticket = server.submit("block-once", "broken", input.toString());
    script.started.poll(10, TimeUnit.SECONDS);

    agent.breakConnection();

    // The scheduler queues the action again, the agent cancels its copy, reconnects and runs it.
    ActionOutcome outcome = ticket.result().get(20, TimeUnit.SECONDS);
    assertThat(outcome.ran()).isTrue();
    assertThat(script.cancelled.get()).isEqualTo(1);
    assertThat(server.scheduler.stats().requeued()).isEqualTo(1);
    assertThat(agent.isConnected()).isTrue();
  }

  @Test
  void theAgentReconnectsWhenTheServerRestartsOnTheSamePort() throws Exception {
    Digest input = server.cas.put(ByteString.copyFromUtf8("restart"));
    WorkerAgent agent = connected("agent-restart", 1);
    Ticket<ActionOutcome> ticket = server.submit("block-once", "restart", input.toString());
    script.started.poll(10, TimeUnit.SECONDS);

    server.stop();

    await().atMost(WAIT).until(() -> server.scheduler.stats().requeued() == 1);
    await().atMost(WAIT).until(() -> !agent.isConnected());
    await().atMost(WAIT).until(() -> script.cancelled.get() == 1);

    server.start();

    await().atMost(WAIT).until(agent::isConnected);
    ActionOutcome outcome = ticket.result().get(20, TimeUnit.SECONDS);
    assertThat(server.cas.get(Digest.fromProto(outcome.result().getOutputFiles(0).getDigest())))
        .isEqualTo(ByteString.copyFromUtf8("RESTART"));
  }

  @Test
  void anAgentStartedBeforeTheServerConnectsOnceItIsUp() throws Exception {
    server.stop();
    WorkerAgent agent = agent("agent-early", 1);
    assertThat(agent.isConnected()).isFalse();

    server.start();

    await().atMost(WAIT).until(agent::isConnected);
  }

  @Test
  void aSecondAgentWithTheSameNameIsRefused() throws Exception {
    connected("agent-twin", 1);
    try (RawWorker twin = new RawWorker(server.channel())) {
      twin.register("agent-twin", 1);
      Status status = twin.awaitEnd(WAIT);
      assertThat(status.getCode()).isEqualTo(Status.Code.ALREADY_EXISTS);
    }
    assertThat(server.scheduler.stats().workers()).isEqualTo(1);
  }

  @Test
  void theAgentGivesUpOnASilentSchedulerAndReconnects() throws Exception {
    // A scheduler that accepts every registration and then says nothing at all.
    AtomicInteger connections = new AtomicInteger();
    WorkerApiGrpc.WorkerApiImplBase silent =
        new WorkerApiGrpc.WorkerApiImplBase() {
          @Override
          public StreamObserver<WorkerMessage> connect(StreamObserver<SchedulerMessage> out) {
            connections.incrementAndGet();
            out.onNext(
                SchedulerMessage.newBuilder()
                    .setRegistered(
                        Registered.newBuilder()
                            .setKeepAliveInterval(
                                com.google.protobuf.Duration.newBuilder().setNanos(100_000_000)))
                    .build());
            return new StreamObserver<>() {
              @Override
              public void onNext(WorkerMessage message) {}

              @Override
              public void onError(Throwable t) {}

              @Override
              public void onCompleted() {
                out.onCompleted();
              }
            };
          }
        };
    Server fake =
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
            .addService(silent)
            .build()
            .start();
    try {
      WorkerAgent agent =
          WorkerAgent.newBuilder()
              .endpoint("grpc://127.0.0.1:" + fake.getPort())
              .name("agent-patient")
              .slots(1)
              .runner(script.factory())
              .backOff(Duration.ofMillis(20), Duration.ofMillis(100))
              .build();
      agents.add(agent);
      agent.start();

      await().atMost(WAIT).until(() -> connections.get() >= 3);
    } finally {
      fake.shutdownNow();
    }
  }

  @Test
  void theBuilderChecksItsArguments() {
    assertThatThrownBy(() -> WorkerAgent.newBuilder().endpoint("ftp://host:1"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("scheme 'ftp'");
    assertThatThrownBy(() -> WorkerAgent.newBuilder().endpoint("grpc://host"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("port is missing");
    assertThatThrownBy(() -> WorkerAgent.newBuilder().endpoint("http://host:1/path"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("path");
    assertThatThrownBy(() -> WorkerAgent.newBuilder().slots(0))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> WorkerAgent.newBuilder().name(" "))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(
            () -> WorkerAgent.newBuilder().backOff(Duration.ofSeconds(2), Duration.ofSeconds(1)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> WorkerAgent.newBuilder().endpoint("grpc://h:1").build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("runner");
    assertThat(WorkerAgent.newBuilder().endpoint("h:1").runner(script.factory()).build().name())
        .contains("-" + ProcessHandle.current().pid());
  }

  private static build.bazel.remote.execution.v2.Command command(String... arguments) {
    return build.bazel.remote.execution.v2.Command.newBuilder()
        .addAllArguments(List.of(arguments))
        .build();
  }

  private static HearthException failure(Ticket<ActionOutcome> ticket) throws Exception {
    try {
      ticket.result().get(20, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      assertThat(e.getCause()).isInstanceOf(HearthException.class);
      return (HearthException) e.getCause();
    }
    throw new AssertionError("the action did not fail");
  }
}
