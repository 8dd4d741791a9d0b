package build.hearth.grpc;

import build.bazel.remote.execution.v2.Action;
import build.bazel.remote.execution.v2.Command;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.ExecutionGrpc;
import build.hearth.api.ActionCache;
import build.hearth.api.ContentAddressableStorage;
import build.hearth.api.Digest;
import build.hearth.api.ExecutionService;
import build.hearth.core.Storage;
import build.hearth.core.execution.ExecutionServices;
import build.hearth.core.internal.ProtoTime;
import build.hearth.core.remote.SchedulerWorkerHub;
import build.hearth.core.scheduler.Scheduler;
import build.hearth.core.scheduler.SchedulerBuilder;
import build.hearth.spi.storage.ActionCacheStore;
import build.hearth.spi.storage.BlobStore;
import build.hearth.spi.transport.InstanceServices;
import build.hearth.spi.transport.TransportContext;
import build.hearth.spi.worker.ActionOutcome;
import build.hearth.spi.worker.ExecutionTask;
import com.google.longrunning.OperationsGrpc;
import io.grpc.ManagedChannel;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * The whole path of a remote execution on a loopback port: the real execution service of the
 * default instance (action cache lookups, merging, operations) over a real scheduler that workers
 * join through the worker API, with the {@code memory} stores. Tests play the workers with {@link
 * RawWorker} and the clients with REAPI stubs.
 */
public final class RemoteExecutionServer implements AutoCloseable {
  /**
   * Long enough that a test thread busy with its clients does not lose its hand-driven workers for
   * silence (three intervals), short enough to be noticed.
   */
  public static final Duration KEEP_ALIVE = Duration.ofSeconds(1);

  public final BlobStore blobs;
  public final ActionCacheStore actionCacheStore;
  public final ContentAddressableStorage cas;
  public final ActionCache actionCache;
  public final Scheduler<ExecutionTask, ActionOutcome> scheduler;
  public final ExecutionService executions;
  private final LoopbackServer server;

  public RemoteExecutionServer() {
    this(UnaryOperator.identity());
  }

  /** A server whose scheduler is built by {@code scheduler} from the default builder. */
  public RemoteExecutionServer(UnaryOperator<SchedulerBuilder> scheduler) {
    this(scheduler, UnaryOperator.identity());
  }

  /**
   * A server whose scheduler is built by {@code scheduler}, and whose transport serves the
   * execution service as {@code served} wraps it (to watch what the transport does with it).
   */
  public RemoteExecutionServer(
      UnaryOperator<SchedulerBuilder> scheduler, UnaryOperator<ExecutionService> served) {
    blobs = MemoryStores.blobStore();
    actionCacheStore = MemoryStores.actionCacheStore();
    cas = Storage.cas(blobs);
    actionCache = Storage.actionCache(actionCacheStore, cas);
    this.scheduler =
        scheduler.apply(Scheduler.newBuilder().expiryCheckInterval(Duration.ofMillis(50))).build();
    executions =
        ExecutionServices.newBuilder()
            .instanceName("")
            .cas(cas)
            .actionCache(actionCache)
            .scheduler(this.scheduler)
            .build();
    server =
        new LoopbackServer(
            port ->
                TransportContext.newBuilder("remote-exec", "127.0.0.1", port)
                    .instance(
                        new InstanceServices(
                            "",
                            cas,
                            Optional.of(actionCache),
                            false,
                            Optional.of(served.apply(executions))))
                    .workerHub(new SchedulerWorkerHub("main", this.scheduler, null, null))
                    .build(),
            GrpcSettings.defaults().withWorkerKeepAliveInterval(KEEP_ALIVE));
  }

  public int port() {
    return server.port();
  }

  public ManagedChannel channel() {
    return server.channel();
  }

  public ExecutionGrpc.ExecutionStub executionAsync() {
    return ExecutionGrpc.newStub(channel());
  }

  public OperationsGrpc.OperationsBlockingStub operations() {
    return LoopbackServer.withTimeout(OperationsGrpc.newBlockingStub(channel()));
  }

  /** Uploads an action running {@code arguments} on an empty input root, with {@code timeout}. */
  public Digest uploadAction(Duration timeout, String... arguments) {
    Digest command =
        cas.put(Command.newBuilder().addAllArguments(List.of(arguments)).build().toByteString());
    Digest inputRoot = cas.put(Directory.getDefaultInstance().toByteString());
    Action action =
        Action.newBuilder()
            .setCommandDigest(command.toProto())
            .setInputRootDigest(inputRoot.toProto())
            .setTimeout(ProtoTime.of(timeout))
            .build();
    return cas.put(action.toByteString());
  }

  @Override
  public void close() {
    server.close();
    scheduler.close();
    blobs.close();
    actionCacheStore.close();
  }
}
