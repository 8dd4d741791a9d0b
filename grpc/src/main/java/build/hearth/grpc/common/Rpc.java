package build.hearth.grpc.common;

import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
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
      return Status.fromCodeValue(e.code().value()).withDescription(e.getMessage());
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
    return toStatus(failure).asRuntimeException();
  }

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
