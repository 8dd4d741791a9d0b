package build.hearth.grpc.reapi;

import build.bazel.remote.execution.v2.ExecuteRequest;
import build.bazel.remote.execution.v2.ExecuteResponse;
import build.bazel.remote.execution.v2.ExecutionGrpc;
import build.bazel.remote.execution.v2.ExecutionPolicy;
import build.bazel.remote.execution.v2.ExecutionStage;
import build.bazel.remote.execution.v2.WaitExecutionRequest;
import build.hearth.api.Digest;
import build.hearth.api.Execution;
import build.hearth.api.ExecutionService;
import build.hearth.api.HearthException;
import build.hearth.api.MissingBlobsException;
import build.hearth.grpc.common.Instances;
import build.hearth.grpc.common.Rpc;
import build.hearth.spi.transport.InstanceServices;
import com.google.longrunning.Operation;
import com.google.protobuf.Any;
import com.google.rpc.PreconditionFailure;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The REAPI Execution service. Execute and WaitExecution both stream the execution's operation: one
 * message per stage it enters, then a done message carrying the {@code ExecuteResponse}, then the
 * end of the stream. Each call holds one {@link Execution.Watch}, closed when the stream ends or
 * the client goes away. When no client follows an unfinished execution any more the core cancels
 * it: at once if the last one cancelled its call, after a re-attach grace if its stream broke (see
 * {@link ExecutionStreamEnds}).
 *
 * <p>Stage and result callbacks run on the transport's pool, through one {@link
 * ExecutionSerialExecutor} per call, so the core's threads never write to a socket and a call's
 * messages leave in order.
 *
 * <p>A FAILED_PRECONDITION from the core is answered with a {@code google.rpc.PreconditionFailure}
 * listing the blobs that are missing ({@code type "MISSING"}, {@code subject "blobs/HASH/SIZE"}):
 * Bazel uploads its inputs again and retries the Execute only when every violation is of that type.
 */
public final class ExecutionGrpcService extends ExecutionGrpc.ExecutionImplBase {
  private static final Logger log = LoggerFactory.getLogger(ExecutionGrpcService.class);

  /**
   * The priorities this server distinguishes, advertised in the capabilities. A lower number runs
   * sooner and 0 is the default; a request outside the range is clamped to its nearer end rather
   * than refused, so a client configured for another server still builds.
   */
  static final int MIN_PRIORITY = -1000;

  static final int MAX_PRIORITY = 1000;

  static final String VIOLATION_MISSING = "MISSING";

  private final Instances instances;
  private final Executor pool;

  /**
   * Serves the executions of {@code instances}.
   *
   * @param instances the server's instances
   * @param pool the transport's pool, on which stage and result callbacks run
   */
  public ExecutionGrpcService(Instances instances, Executor pool) {
    this.instances = instances;
    this.pool = pool;
  }

  @Override
  public void execute(ExecuteRequest request, StreamObserver<Operation> out) {
    Execution execution;
    try {
      execution = start(request);
    } catch (StatusRuntimeException e) {
      out.onError(e);
      return;
    } catch (RuntimeException e) {
      out.onError(Rpc.toException(e));
      return;
    }
    follow(execution, (ServerCallStreamObserver<Operation>) out);
  }

  @Override
  public void waitExecution(WaitExecutionRequest request, StreamObserver<Operation> out) {
    Execution execution;
    try {
      // NOT_FOUND is what Bazel expects of an operation the server no longer knows: it then
      // executes the action again.
      execution =
          instances
              .findExecution(request.getName())
              .orElseThrow(
                  () ->
                      HearthException.notFound(
                          "no operation named \"%s\" on this server; it finished and has expired"
                              + " (completed operations are kept for a while, and only the latest"
                              + " ones), or the server restarted. Execute the action again",
                          Instances.abbreviate(request.getName())));
    } catch (RuntimeException e) {
      out.onError(Rpc.toException(e));
      return;
    }
    follow(execution, (ServerCallStreamObserver<Operation>) out);
  }

  private Execution start(ExecuteRequest request) {
    InstanceServices instance = instances.require(request.getInstanceName());
    ExecutionService executions = Instances.execution(instance);
    Requests.checkDigestFunction(request.getDigestFunction());
    Requests.digest(request.getActionDigest(), "action_digest");
    try {
      return executions.execute(clampPriority(request));
    } catch (MissingBlobsException e) {
      throw missingBlobsStatus(Rpc.toStatus(e), e.missing());
    }
  }

  private static ExecuteRequest clampPriority(ExecuteRequest request) {
    int priority = request.getExecutionPolicy().getPriority();
    int clamped = Math.max(MIN_PRIORITY, Math.min(MAX_PRIORITY, priority));
    if (clamped == priority) {
      return request;
    }
    return request.toBuilder()
        .setExecutionPolicy(
            ExecutionPolicy.newBuilder(request.getExecutionPolicy()).setPriority(clamped))
        .build();
  }

  /** {@code status} carrying a PreconditionFailure with one MISSING violation per blob. */
  static StatusRuntimeException missingBlobsStatus(Status status, List<Digest> missing) {
    PreconditionFailure.Builder failure = PreconditionFailure.newBuilder();
    for (Digest digest : missing) {
      failure.addViolations(
          PreconditionFailure.Violation.newBuilder()
              .setType(VIOLATION_MISSING)
              .setSubject("blobs/" + digest.hash() + "/" + digest.sizeBytes())
              .setDescription("the blob is not in the CAS; upload it and execute again"));
    }
    return StatusProto.toStatusRuntimeException(
        com.google.rpc.Status.newBuilder()
            .setCode(status.getCode().value())
            .setMessage(status.getDescription() == null ? "" : status.getDescription())
            .addDetails(Any.pack(failure.build()))
            .build());
  }

  private void follow(Execution execution, ServerCallStreamObserver<Operation> call) {
    Execution.Watch watch;
    try {
      watch = execution.watch();
    } catch (RuntimeException e) {
      call.onError(Rpc.toException(e));
      return;
    }
    Follower follower =
        new Follower(
            execution,
            watch,
            call,
            new ExecutionSerialExecutor(pool),
            ExecutionStreamEnds.current());
    try {
      // Set while still inside the call's first callback, as gRPC requires; a cancellation that
      // happened before is delivered after this method returns.
      call.setOnCancelHandler(follower::cancelled);
      execution.addStageListener(follower::stage, follower.serial);
      execution.result().whenCompleteAsync(follower::completed, follower.serial);
    } catch (RuntimeException e) {
      follower.abort(e);
    }
  }

  /** Sends one execution's progress to one call. */
  private static final class Follower {
    private final Execution execution;
    private final Execution.Watch watch;
    private final ServerCallStreamObserver<Operation> call;
    private final ExecutionSerialExecutor serial;
    private final AtomicBoolean finished = new AtomicBoolean();
    private final ExecutionStreamEnds.End end;

    /** The stage last sent; touched only by tasks of {@link #serial}, which run one at a time. */
    private ExecutionStage.Value sent;

    Follower(
        Execution execution,
        Execution.Watch watch,
        ServerCallStreamObserver<Operation> call,
        ExecutionSerialExecutor serial,
        ExecutionStreamEnds.End end) {
      this.execution = execution;
      this.end = end;
      this.watch = watch;
      this.call = call;
      this.serial = serial;
    }

    void stage(ExecutionStage.Value stage) {
      // COMPLETED goes out with the response, from completed(); a stage seen twice (an action
      // that lost its worker is QUEUED again) is worth one message only if it changed.
      if (finished.get() || stage == ExecutionStage.Value.COMPLETED || stage == sent) {
        return;
      }
      sent = stage;
      call.onNext(ExecutionOperations.progress(execution, stage));
    }

    void completed(ExecuteResponse response, Throwable failure) {
      if (!finished.compareAndSet(false, true)) {
        return;
      }
      try {
        call.onNext(
            failure == null
                ? ExecutionOperations.completed(execution, response)
                : ExecutionOperations.failed(execution, failure));
        call.onCompleted();
      } finally {
        watch.close();
      }
    }

    /**
     * The call ended early, and no longer keeps the execution alive. A client that cancelled it
     * (Bazel interrupted by its user) abandons the execution, which is cancelled at once if nobody
     * else follows it; a stream that broke leaves its client the re-attach grace to come back with
     * WaitExecution.
     */
    void cancelled() {
      if (finished.compareAndSet(false, true)) {
        if (end != null && end.broke()) {
          log.debug("The stream following {} broke; it may re-attach", execution.name());
          watch.close();
        } else {
          log.debug("Client stopped following {}", execution.name());
          watch.abandon();
        }
      }
    }

    void abort(RuntimeException failure) {
      if (finished.compareAndSet(false, true)) {
        watch.close();
        call.onError(Rpc.toException(failure));
      }
    }
  }
}
