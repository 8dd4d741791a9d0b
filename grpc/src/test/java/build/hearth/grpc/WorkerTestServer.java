package build.hearth.grpc;

import build.bazel.remote.execution.v2.Action;
import build.bazel.remote.execution.v2.Command;
import build.bazel.remote.execution.v2.Platform;
import build.hearth.api.ContentAddressableStorage;
import build.hearth.api.Digest;
import build.hearth.core.Storage;
import build.hearth.core.ops.WorkerReports;
import build.hearth.core.remote.SchedulerWorkerHub;
import build.hearth.core.scheduler.ActionRequest;
import build.hearth.core.scheduler.Scheduler;
import build.hearth.core.scheduler.Ticket;
import build.hearth.core.scheduler.WarmWorkers;
import build.hearth.spi.storage.BlobStore;
import build.hearth.spi.transport.InstanceServices;
import build.hearth.spi.transport.TlsSettings;
import build.hearth.spi.transport.TransportContext;
import build.hearth.spi.worker.ActionOutcome;
import build.hearth.spi.worker.ExecutionTask;
import io.grpc.ManagedChannel;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * A gRPC transport on a loopback port serving the worker API over a real scheduler, with the {@code
 * memory} store as the CAS of the default instance. The transport can be stopped and started again
 * on the same port, with the same scheduler and CAS, as a restarted server would.
 */
public final class WorkerTestServer implements AutoCloseable {
  /** Short, so that silence is noticed within a second. */
  public static final Duration KEEP_ALIVE = Duration.ofMillis(200);

  public final BlobStore blobs;
  public final ContentAddressableStorage cas;
  public final Scheduler<ExecutionTask, ActionOutcome> scheduler;

  /** The scheduler's scorer, offered to the transport as a server would. */
  public final WarmWorkers warm = new WarmWorkers();

  /** The workers' reports, offered to the transport as a server would, for scheduler "main". */
  public final WorkerReports reports;

  private final LoopbackServer server;
  private final boolean tls;

  public WorkerTestServer() {
    this(Clock.systemUTC());
  }

  /** A server that dates workers' reports and measures upload idleness on {@code clock}. */
  public WorkerTestServer(Clock clock) {
    this(clock, null);
  }

  /**
   * A server whose port speaks TLS with {@code tls} (see {@code tls.TestCertificates}); its {@link
   * #endpoint()} is then {@code grpcs://localhost:PORT}, and {@link #channel()} cannot reach it.
   */
  public WorkerTestServer(TlsSettings tls) {
    this(Clock.systemUTC(), tls);
  }

  /**
   * A server that sends keep-alives every {@code keepAlive}: longer than {@link #KEEP_ALIVE} for
   * tests whose messages take a while to cross, such as a command of many megabytes.
   */
  public WorkerTestServer(Duration keepAlive) {
    this(Clock.systemUTC(), null, keepAlive);
  }

  private WorkerTestServer(Clock clock, TlsSettings tlsSettings) {
    this(clock, tlsSettings, KEEP_ALIVE);
  }

  private WorkerTestServer(Clock clock, TlsSettings tlsSettings, Duration keepAlive) {
    this.tls = tlsSettings != null;
    blobs = MemoryStores.blobStore();
    cas = Storage.cas(blobs);
    scheduler = Scheduler.newBuilder().workerScorer(warm).build();
    reports = new WorkerReports(clock);
    server =
        new LoopbackServer(
            port -> {
              TransportContext.Builder context =
                  TransportContext.newBuilder("workers", "127.0.0.1", port)
                      .instance(new InstanceServices("", cas, Optional.empty(), false))
                      .workerHub(new SchedulerWorkerHub("main", scheduler, warm, reports));
              if (tlsSettings != null) {
                context.tls(tlsSettings);
              }
              return context.build();
            },
            GrpcSettings.defaults().withClock(clock).withWorkerKeepAliveInterval(keepAlive));
  }

  /** Starts the transport again on the same port, with the same scheduler and CAS. */
  public void start() {
    server.start();
  }

  /** Stops the transport, as a server that goes down. */
  public void stop() {
    server.stop();
  }

  public String endpoint() {
    return tls ? "grpcs://localhost:" + server.port() : server.endpoint();
  }

  /** A channel for hand-driven worker streams; closed with the server. */
  public ManagedChannel channel() {
    return server.channel();
  }

  /** Submits an action whose command is {@code arguments}. */
  public Ticket<ActionOutcome> submit(String... arguments) {
    return submitOn(Platform.getDefaultInstance(), arguments);
  }

  /** Submits an action with {@code platform} whose command is {@code arguments}. */
  public Ticket<ActionOutcome> submitOn(Platform platform, String... arguments) {
    ExecutionTask task = task(arguments);
    return scheduler.submit(ActionRequest.of(String.join(" ", arguments), platform, task));
  }

  public ExecutionTask task(String... arguments) {
    Command command = Command.newBuilder().addAllArguments(List.of(arguments)).build();
    Digest commandDigest = cas.put(command.toByteString());
    Action action = Action.newBuilder().setCommandDigest(commandDigest.toProto()).build();
    Digest actionDigest = cas.put(action.toByteString());
    return new ExecutionTask("", actionDigest, action, command, Duration.ofMinutes(1));
  }

  @Override
  public void close() {
    server.close();
    scheduler.close();
    blobs.close();
  }
}
