package build.hearth.grpc;

import build.hearth.api.HearthException;
import build.hearth.grpc.common.Rpc;
import build.hearth.proto.workerapi.WorkerApiGrpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallExecutorSupplier;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadPoolExecutor;

/**
 * Chooses the thread pool each call runs on, and refuses a call at once when the service pool's
 * queue is full: the transport's bound on calls waiting for a thread ({@code
 * limits.maxQueuedCalls}).
 *
 * <p>Why not a bounded queue in the pool itself: grpc-java hands a call's every callback (start,
 * each message, half-close, cancel) to the pool through a serializing executor from the Netty event
 * loop; a {@code RejectedExecutionException} there propagates into the transport, loses the
 * callback, and leaves the call neither served nor closed. Admission is decided instead once, when
 * the call starts, before any of its work is queued: grpc-java asks this class for the call's
 * executor ({@link ServerCallExecutorSupplier}) on the server's small dispatch pool; for a refused
 * call it answers with a direct executor and marks the call's headers, and {@link #interceptCall},
 * the outermost interceptor but the counting one, closes the call with RESOURCE_EXHAUSTED without
 * running the access check or the service. So a refused call never takes a thread of the service
 * pool, and every admitted call queues at most one task at a time (grpc serializes a call's
 * callbacks), so the queue holds about {@code maxQueuedCalls} tasks plus those of calls already
 * running.
 *
 * <p>Calls of the worker API run on a pool of their own and are never refused here: a worker's
 * stream carries its keep-alives, and queued behind REAPI calls in a saturated pool they would
 * arrive late enough for the server to think every worker silent and re-queue their actions.
 *
 * <p>Thread-safe; one per server.
 */
final class CallAdmission implements ServerCallExecutorSupplier, ServerInterceptor {
  /** Long enough for a busy pool to work off a part of its queue; short against a build. */
  static final Duration RETRY_AFTER = Duration.ofSeconds(1);

  /** Set by this class on a refused call's headers; removed when a client sends it itself. */
  private static final Metadata.Key<String> REFUSED =
      Metadata.Key.of("hearth-internal-queue-full", Metadata.ASCII_STRING_MARSHALLER);

  private final ThreadPoolExecutor services;
  private final Executor workers;
  private final int maxQueuedCalls;

  /**
   * @param services the pool that runs REAPI calls, whose queue is bounded here
   * @param workers the pool that runs the worker API's calls
   * @param maxQueuedCalls calls that may wait for a thread of {@code services}
   */
  CallAdmission(ThreadPoolExecutor services, Executor workers, int maxQueuedCalls) {
    this.services = services;
    this.workers = workers;
    this.maxQueuedCalls = maxQueuedCalls;
  }

  @Override
  public <Q, R> Executor getExecutor(ServerCall<Q, R> call, Metadata headers) {
    headers.discardAll(REFUSED);
    if (WorkerApiGrpc.SERVICE_NAME.equals(call.getMethodDescriptor().getServiceName())) {
      return workers;
    }
    if (services.getQueue().size() >= maxQueuedCalls) {
      headers.put(REFUSED, String.valueOf(services.getQueue().size()));
      // Only the refusal below runs here, on the dispatch thread: no store, no access check.
      return Runnable::run;
    }
    return services;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    String queued = headers.get(REFUSED);
    if (queued == null) {
      return next.startCall(call, headers);
    }
    HearthException refusal =
        HearthException.limitReached(
            "queued_calls",
            RETRY_AFTER,
            "the server is busy: %s calls already wait for a thread (limits.maxQueuedCalls is %d);"
                + " retry later",
            queued,
            maxQueuedCalls);
    StatusRuntimeException e = Rpc.toException(refusal);
    call.close(e.getStatus(), e.getTrailers() == null ? new Metadata() : e.getTrailers());
    return new ServerCall.Listener<>() {};
  }
}
