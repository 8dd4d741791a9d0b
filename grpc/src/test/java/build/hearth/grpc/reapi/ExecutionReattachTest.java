package build.hearth.grpc.reapi;

import static build.hearth.grpc.ExecutionTestServer.response;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.ExecuteRequest;
import build.bazel.remote.execution.v2.ExecuteResponse;
import build.bazel.remote.execution.v2.ExecutionGrpc;
import build.bazel.remote.execution.v2.ExecutionStage;
import build.bazel.remote.execution.v2.WaitExecutionRequest;
import build.hearth.api.Digest;
import build.hearth.api.Execution;
import build.hearth.api.ExecutionService;
import build.hearth.grpc.ExecutionTestServer;
import build.hearth.grpc.RawWorker;
import build.hearth.grpc.RemoteExecutionServer;
import build.hearth.grpc.common.Rpc;
import build.hearth.proto.workerapi.ActionFinished;
import build.hearth.proto.workerapi.AssignAction;
import build.hearth.proto.workerapi.SchedulerMessage.KindCase;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A client whose connection dies while its action runs re-attaches with WaitExecution and gets the
 * result of the one run: over real sockets, the client's connection going through a proxy the test
 * cuts, the execution waits the re-attach grace rather than being cancelled at once.
 */
class ExecutionReattachTest {
  private static final Duration WAIT = Duration.ofSeconds(20);
  private static final Duration TICK = Duration.ofMillis(50);

  /** How the transport released each watch: "close" (may re-attach) or "abandon". */
  private final List<String> releases = new CopyOnWriteArrayList<>();

  private RemoteExecutionServer server;
  private RawWorker worker;
  private CuttableProxy proxy;
  private ManagedChannel viaProxy;

  @BeforeEach
  void start() throws Exception {
    server = new RemoteExecutionServer(b -> b, RecordingService::new);
    worker = new RawWorker(server.channel());
    worker.register("only", 1);
    worker.next(KindCase.REGISTERED);
    proxy = new CuttableProxy(server.port());
    viaProxy = ManagedChannelBuilder.forAddress("127.0.0.1", proxy.port()).usePlaintext().build();
  }

  @AfterEach
  void stop() throws Exception {
    viaProxy.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    proxy.close();
    worker.close();
    server.close();
  }

  @Test
  void aClientWhoseConnectionDiedReattachesWithinTheGraceAndTheActionRanOnce() throws Exception {
    Digest action = server.uploadAction(Duration.ofMinutes(1), "sleep", "10");
    ExecutionTestServer.Stream execute = new ExecutionTestServer.Stream();
    ExecutionGrpc.newStub(viaProxy)
        .execute(ExecuteRequest.newBuilder().setActionDigest(action.toProto()).build(), execute);
    AssignAction assigned = worker.nextWhileAlive(KindCase.ASSIGN, TICK).getAssign();
    String name = firstMessage(execute).received.get(0).getName();

    proxy.cut();
    // The server saw the stream break (not a client's cancel) and released its watch for it.
    await()
        .atMost(WAIT)
        .until(
            () -> {
              worker.keepAlive();
              return releases.contains("close");
            });

    ExecutionTestServer.Stream again = new ExecutionTestServer.Stream();
    server
        .executionAsync()
        .waitExecution(WaitExecutionRequest.newBuilder().setName(name).build(), again);
    firstMessage(again);
    worker.finished(
        ActionFinished.newBuilder()
            .setAssignmentId(assigned.getAssignmentId())
            .setStatus(Rpc.OK)
            .setResult(ActionResult.newBuilder().setExitCode(0))
            .build());
    again.awaitEnd();

    ExecuteResponse response = response(again.last());
    assertThat(response.getStatus().getCode()).isZero();
    assertThat(again.last().getName()).isEqualTo(name);
    assertThat(releases).doesNotContain("abandon");
    assertThat(server.scheduler.stats().executing()).isZero();
    assertThat(server.scheduler.stats().requeued()).isZero();
  }

  @Test
  void aClientThatCancelsItsCallAbandonsTheExecutionAtOnce() throws Exception {
    Digest action = server.uploadAction(Duration.ofMinutes(1), "sleep", "10");
    ExecutionTestServer.Stream execute = new ExecutionTestServer.Stream();
    ExecutionGrpc.newStub(viaProxy)
        .execute(ExecuteRequest.newBuilder().setActionDigest(action.toProto()).build(), execute);
    AssignAction assigned = worker.nextWhileAlive(KindCase.ASSIGN, TICK).getAssign();
    firstMessage(execute);

    execute.cancel();

    String cancelled = worker.nextWhileAlive(KindCase.CANCEL, TICK).getCancel().getAssignmentId();
    assertThat(cancelled).isEqualTo(assigned.getAssignmentId());
    assertThat(releases).containsExactly("abandon");
  }

  private ExecutionTestServer.Stream firstMessage(ExecutionTestServer.Stream stream) {
    await()
        .atMost(WAIT)
        .until(
            () -> {
              worker.keepAlive();
              return !stream.received.isEmpty();
            });
    return stream;
  }

  /** Forwards to the real service and records how each watch is released. */
  private final class RecordingService implements ExecutionService {
    private final ExecutionService delegate;

    RecordingService(ExecutionService delegate) {
      this.delegate = delegate;
    }

    @Override
    public Execution execute(ExecuteRequest request) {
      return new RecordingExecution(delegate.execute(request));
    }

    @Override
    public Optional<Execution> find(String operationName) {
      return delegate.find(operationName).map(RecordingExecution::new);
    }
  }

  private final class RecordingExecution implements Execution {
    private final Execution delegate;

    RecordingExecution(Execution delegate) {
      this.delegate = delegate;
    }

    @Override
    public String name() {
      return delegate.name();
    }

    @Override
    public Digest actionDigest() {
      return delegate.actionDigest();
    }

    @Override
    public ExecutionStage.Value stage() {
      return delegate.stage();
    }

    @Override
    public CompletableFuture<ExecuteResponse> result() {
      return delegate.result();
    }

    @Override
    public void addStageListener(Consumer<ExecutionStage.Value> listener, Executor executor) {
      delegate.addStageListener(listener, executor);
    }

    @Override
    public Watch watch() {
      Watch watch = delegate.watch();
      return new Watch() {
        @Override
        public void close() {
          releases.add("close");
          watch.close();
        }

        @Override
        public void abandon() {
          releases.add("abandon");
          watch.abandon();
        }
      };
    }

    @Override
    public boolean cancel() {
      return delegate.cancel();
    }
  }

  /** A loopback TCP proxy whose connections the test can cut, as a network failure does. */
  private static final class CuttableProxy implements AutoCloseable {
    private final ServerSocket listener;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final int target;

    CuttableProxy(int target) throws IOException {
      this.target = target;
      listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
      Thread acceptor = new Thread(this::accept, "proxy-accept");
      acceptor.setDaemon(true);
      acceptor.start();
    }

    int port() {
      return listener.getLocalPort();
    }

    private void accept() {
      while (!listener.isClosed()) {
        try {
          Socket client = listener.accept();
          Socket upstream = new Socket(InetAddress.getLoopbackAddress(), target);
          sockets.add(client);
          sockets.add(upstream);
          pump(client, upstream);
          pump(upstream, client);
        } catch (IOException e) {
          return;
        }
      }
    }

    private static void pump(Socket from, Socket to) {
      Thread thread =
          new Thread(
              () -> {
                try (InputStream in = from.getInputStream();
                    OutputStream out = to.getOutputStream()) {
                  in.transferTo(out);
                } catch (IOException e) {
                  // cut
                }
              },
              "proxy-pump");
      thread.setDaemon(true);
      thread.start();
    }

    /** Closes every connection at once, both ways. */
    void cut() throws IOException {
      for (Socket socket : sockets) {
        socket.close();
      }
    }

    @Override
    public void close() throws IOException {
      listener.close();
      cut();
    }
  }
}
