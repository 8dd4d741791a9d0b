package build.hearth.grpc.common;

import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import com.google.protobuf.Any;
import com.google.rpc.RetryInfo;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place where failures become gRPC statuses. A {@link HearthException} keeps its code
 * number and message, so what the core tells the user reaches the client unchanged; anything else
 * is a bug or an I/O failure nobody anticipated, and becomes INTERNAL, logged with its stack trace
 * so an operator can find it.
 */
public final class Rpc {
  private static final Logger log = LoggerFactory.getLogger(Rpc.class);

  private Rpc() {}

  /**
   * {@return the gRPC status for {@code failure}}
   *
   * @param failure what a call threw
   */
  public static Status toStatus(Throwable failure) {
    if (failure instanceof HearthException e) {
      if (isServerFault(e.code())) {
        log.warn("Request failed with {}: {}", e.code(), e.getMessage(), e);
      } else {
        log.debug("Request refused with {}: {}", e.code(), e.getMessage());
      }
      // The cause stays on this side of the wire (gRPC never sends it); the transport reads a
      // limit's name from it to count refusals.
      return Status.fromCodeValue(e.code().value()).withDescription(e.getMessage()).withCause(e);
    }
    if (failure instanceof StatusRuntimeException e) {
      return e.getStatus();
    }
    if (failure instanceof StatusException e) {
      return e.getStatus();
    }
    log.warn("Unexpected failure while serving a request", failure);
    return Status.INTERNAL.withDescription(describe(failure)).withCause(failure);
  }

  /**
   * {@return {@link #toStatus} as an exception to pass to {@link StreamObserver#onError}}
   *
   * @param failure what a call threw
   */
  public static StatusRuntimeException toException(Throwable failure) {
    Status status = toStatus(failure);
    if (failure instanceof HearthException e && e.retryAfter().isPresent()) {
      return status.asRuntimeException(retryTrailers(status, e.retryAfter().get()));
    }
    return status.asRuntimeException();
  }

  /**
   * {@return the name of the limit that refused the call that ended with {@code status}, if a limit
   * did} Only for statuses made by {@link #toStatus} on this side of the wire.
   *
   * @param status how a call ended
   */
  public static Optional<String> refusingLimit(Status status) {
    return status.getCause() instanceof HearthException e ? e.limit() : Optional.empty();
  }

  /**
   * Trailers with the status as a {@code google.rpc.Status} carrying a {@code RetryInfo}, which
   * clients that read status details (Bazel does for its retrier) use as their back-off.
   */
  private static Metadata retryTrailers(Status status, Duration retryAfter) {
    RetryInfo retry =
        RetryInfo.newBuilder()
            .setRetryDelay(
                com.google.protobuf.Duration.newBuilder()
                    .setSeconds(retryAfter.getSeconds())
                    .setNanos(retryAfter.getNano()))
            .build();
    com.google.rpc.Status details =
        com.google.rpc.Status.newBuilder()
            .setCode(status.getCode().value())
            .setMessage(status.getDescription() == null ? "" : status.getDescription())
            .addDetails(Any.pack(retry))
            .build();
    Metadata trailers = new Metadata();
    trailers.put(STATUS_DETAILS, details);
    return trailers;
  }

  /** The trailer gRPC's status-details convention uses (what {@code StatusProto} reads). */
  private static final Metadata.Key<com.google.rpc.Status> STATUS_DETAILS =
      Metadata.Key.of(
          "grpc-status-details-bin",
          ProtoUtils.metadataMarshaller(com.google.rpc.Status.getDefaultInstance()));

  /**
   * {@return the {@code google.rpc.Status} of one entry of a batch response}
   *
   * @param code the entry's status code
   * @param message the entry's message; null for none
   */
  public static com.google.rpc.Status rpcStatus(StatusCode code, String message) {
    return com.google.rpc.Status.newBuilder()
        .setCode(code.value())
        .setMessage(message == null ? "" : message)
        .build();
  }

  /**
   * {@return {@link #rpcStatus(StatusCode, String)} for a failure, mapped as {@link #toStatus}
   * does}
   *
   * @param failure what the entry's work threw
   */
  public static com.google.rpc.Status rpcStatus(Throwable failure) {
    Status status = toStatus(failure);
    return com.google.rpc.Status.newBuilder()
        .setCode(status.getCode().value())
        .setMessage(status.getDescription() == null ? "" : status.getDescription())
        .build();
  }

  /** The {@code google.rpc.Status} of a batch entry that succeeded: code 0, no message. */
  public static final com.google.rpc.Status OK = com.google.rpc.Status.getDefaultInstance();

  /**
   * Answers a unary call with what {@code body} returns, or with the status of what it throws. Only
   * {@link RuntimeException}s are caught: an {@link Error} is left to gRPC, which closes the call
   * with UNKNOWN.
   *
   * @param <T> the response's type
   * @param out the call's response observer
   * @param body computes the response
   */
  public static <T> void unary(StreamObserver<T> out, Supplier<T> body) {
    T response;
    try {
      response = body.get();
    } catch (RuntimeException e) {
      out.onError(toException(e));
      return;
    }
    out.onNext(response);
    out.onCompleted();
  }

  private static boolean isServerFault(StatusCode code) {
    return code == StatusCode.INTERNAL
        || code == StatusCode.DATA_LOSS
        || code == StatusCode.UNKNOWN;
  }

  private static String describe(Throwable failure) {
    String message = failure.getMessage();
    return message == null || message.isBlank()
        ? failure.getClass().getName()
        : failure.getClass().getSimpleName() + ": " + message;
  }
}
