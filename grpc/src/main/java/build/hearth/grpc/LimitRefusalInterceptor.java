package build.hearth.grpc;

import build.hearth.grpc.common.Rpc;
import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.util.function.Consumer;

/**
 * Counts the calls a limit refused, by the limit's name, as they close: one place for every
 * service, so a new limit is counted by throwing {@code HearthException.limitReached} and nothing
 * else. Reads the name from the status's local cause, which {@link Rpc#toStatus} sets and gRPC
 * never sends.
 */
final class LimitRefusalInterceptor implements ServerInterceptor {
  private final Consumer<String> refusals;

  LimitRefusalInterceptor(Consumer<String> refusals) {
    this.refusals = refusals;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    return next.startCall(
        new SimpleForwardingServerCall<>(call) {
          @Override
          public void close(Status status, Metadata trailers) {
            Rpc.refusingLimit(status).ifPresent(refusals);
            super.close(status, trailers);
          }
        },
        headers);
  }
}
