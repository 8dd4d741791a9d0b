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
import build.hearth.proto.workerapi.PersistentPoolStats;
import build.hearth.proto.workerapi.SandboxReport;
import build.hearth.spi.storage.BlobStore;
import build.hearth.spi.transport.InstanceServices;
import build.hearth.spi.transport.TlsSettings;
import build.hearth.spi.transport.TransportContext;
import build.hearth.spi.worker.ActionOutcome;
import build.hearth.spi.worker.AssignmentListener;
import build.hearth.spi.worker.ExecutionTask;
import build.hearth.spi.worker.RemoteWorker;
import build.hearth.spi.worker.WorkerHub;
import build.hearth.spi.worker.WorkerSpec;
import io.grpc.ManagedChannel;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

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
  private final DrainGatedHub hub;

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

  /**
   * A server that sends its workers assignments of at most {@code maxAssignmentBytes}, as one with
   * {@code workerApi.maxAssignmentSize} set.
   */
  public WorkerTestServer(int maxAssignmentBytes) {
    this(Clock.systemUTC(), null, KEEP_ALIVE, maxAssignmentBytes);
  }

  private WorkerTestServer(Clock clock, TlsSettings tlsSettings) {
    this(clock, tlsSettings, KEEP_ALIVE);
  }

  private WorkerTestServer(Clock clock, TlsSettings tlsSettings, Duration keepAlive) {
    this(clock, tlsSettings, keepAlive, WorkerHub.DEFAULT_MAX_ASSIGNMENT_BYTES);
  }

  private WorkerTestServer(
      Clock clock, TlsSettings tlsSettings, Duration keepAlive, int maxAssignmentBytes) {
    this.tls = tlsSettings != null;
    blobs = MemoryStores.blobStore();
    cas = Storage.cas(blobs);
    scheduler = Scheduler.newBuilder().workerScorer(warm).build();
    reports = new WorkerReports(clock);
    hub =
        new DrainGatedHub(
            new SchedulerWorkerHub("main", scheduler, warm, reports, maxAssignmentBytes));
    server =
        new LoopbackServer(
            port -> {
              TransportContext.Builder context =
                  TransportContext.newBuilder("workers", "127.0.0.1", port)
                      .instance(new InstanceServices("", cas, Optional.empty(), false))
                      .workerHub(hub);
              if (tlsSettings != null) {
                context.tls(tlsSettings);
              }
              return context.build();
            },
            GrpcSettings.defaults().withClock(clock).withWorkerKeepAliveInterval(keepAlive));
  }

  /**
   * From now on, a worker's Drain is read by the worker API but reaches the scheduler only once
   * {@link #releaseDrains()} is called; meanwhile the scheduler still assigns that worker work, as
   * when it sends an assignment just before it reads the Drain.
   */
  public void holdDrains() {
    hub.hold();
  }

  /** Lets held Drains reach the scheduler; see {@link #holdDrains()}. */
  public void releaseDrains() {
    hub.release();
  }

  /** Waits until a Drain is held; see {@link #holdDrains()}. */
  public boolean awaitHeldDrain(Duration timeout) throws InterruptedException {
    return hub.awaitHeldDrain(timeout);
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
    hub.release(); // a test that failed while holding a Drain must not hold the server's close
    server.close();
    scheduler.close();
    blobs.close();
  }

  /**
   * A hub that can hold a worker's Drain on its way to the scheduler, so that a test can make the
   * scheduler assign work to a worker that has already sent Drain: the worker API reads the
   * message, and its stream's inbound path waits here until the test {@linkplain #release()
   * releases} it, while the scheduler, not yet told, goes on assigning. Open (passing every call
   * through at once) until {@link #hold()}.
   */
  private static final class DrainGatedHub implements WorkerHub {
    private final WorkerHub delegate;
    private final CountDownLatch arrived = new CountDownLatch(1);
    private volatile CountDownLatch gate; // null while open

    DrainGatedHub(WorkerHub delegate) {
      this.delegate = delegate;
    }

    /** Holds the next Drains until {@link #release()}. */
    void hold() {
      gate = new CountDownLatch(1);
    }

    /** Lets the held Drains (and every later one) reach the scheduler. */
    void release() {
      CountDownLatch held = gate;
      gate = null;
      if (held != null) {
        held.countDown();
      }
    }

    /** Waits until a Drain arrived here while held; false if none did within {@code timeout}. */
    boolean awaitHeldDrain(Duration timeout) throws InterruptedException {
      return arrived.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public String schedulerName() {
      return delegate.schedulerName();
    }

    @Override
    public int maxAssignmentBytes() {
      return delegate.maxAssignmentBytes();
    }

    @Override
    public RemoteWorker connect(WorkerSpec spec, AssignmentListener listener) {
      RemoteWorker worker = delegate.connect(spec, listener);
      return new RemoteWorker() {
        @Override
        public String name() {
          return worker.name();
        }

        @Override
        public boolean reportWarmProcesses(Map<String, Integer> idleByClientKey) {
          return worker.reportWarmProcesses(idleByClientKey);
        }

        @Override
        public void reportStatus(Optional<PersistentPoolStats> persistentWorkers) {
          worker.reportStatus(persistentWorkers);
        }

        @Override
        public void reportSandbox(SandboxReport sandbox) {
          worker.reportSandbox(sandbox);
        }

        @Override
        public void drain() {
          CountDownLatch held = gate;
          if (held != null) {
            arrived.countDown();
            try {
              if (!held.await(30, TimeUnit.SECONDS)) {
                throw new IllegalStateException("the test never released the held Drain");
              }
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
              throw new IllegalStateException("interrupted while holding a Drain", e);
            }
          }
          worker.drain();
        }

        @Override
        public void disconnect() {
          worker.disconnect();
        }
      };
    }
  }
}
