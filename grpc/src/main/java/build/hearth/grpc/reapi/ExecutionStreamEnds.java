package build.hearth.grpc.reapi;

import build.bazel.remote.execution.v2.ExecutionGrpc;
import io.grpc.Context;
import io.grpc.Metadata;
import io.grpc.ServerStreamTracer;
import io.grpc.Status;

/**
 * Tells, for an Execute or WaitExecution call that ended early, whether its client cancelled it or
 * its connection broke. gRPC's cancel handler says neither; the status the transport closed the
 * stream with does: a client that cancels (Bazel interrupted by the user) resets its stream with
 * CANCELLED over a live connection, while a connection that died ends its streams UNAVAILABLE. The
 * first deserves the prompt kill a cancellation always had; the second the re-attach grace, since
 * its client may come back with WaitExecution.
 *
 * <p>A {@link ServerStreamTracer} sees that status before the call's listener does, and passes it
 * through the call's {@link Context}. Register {@link #tracerFactory()} on the server that serves
 * {@link ExecutionGrpcService}; without it every early end counts as a client's cancel.
 */
public final class ExecutionStreamEnds {
  private static final Context.Key<End> END = Context.key("hearth-execution-stream-end");

  private static final String EXECUTION_PREFIX = ExecutionGrpc.SERVICE_NAME + "/";

  private static final ServerStreamTracer NONE = new ServerStreamTracer() {};

  private static final ServerStreamTracer.Factory FACTORY =
      new ServerStreamTracer.Factory() {
        @Override
        public ServerStreamTracer newServerStreamTracer(String fullMethodName, Metadata headers) {
          // Only the execution service's calls need it; the rest share a tracer that does nothing.
          return fullMethodName.startsWith(EXECUTION_PREFIX) ? new Tracer() : NONE;
        }
      };

  private ExecutionStreamEnds() {}

  /** {@return the tracer factory to register on the server; stateless, shareable by servers} */
  public static ServerStreamTracer.Factory tracerFactory() {
    return FACTORY;
  }

  /** The end of the current call, to be read once it ended; null without the tracer. */
  static End current() {
    return END.get();
  }

  /** How one call's stream ended; set by the transport, read by the cancel handler. */
  static final class End {
    private volatile Status status;

    /**
     * Whether the stream broke rather than being cancelled by its client: it ended with a status
     * other than CANCELLED, such as UNAVAILABLE for a connection that died.
     */
    boolean broke() {
      Status ended = status;
      return ended != null && ended.getCode() != Status.Code.CANCELLED;
    }
  }

  private static final class Tracer extends ServerStreamTracer {
    private final End end = new End();

    @Override
    public Context filterContext(Context context) {
      return context.withValue(END, end);
    }

    @Override
    public void streamClosed(Status status) {
      end.status = status;
    }
  }
}
