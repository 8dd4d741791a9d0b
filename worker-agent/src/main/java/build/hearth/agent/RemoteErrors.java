package build.hearth.agent;

import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import build.hearth.grpc.common.Rpc;
import io.grpc.Status;

/**
 * The client-side mirror of {@link Rpc}: a status that a remote server answered becomes a {@link
 * HearthException} with the same code and message, so a caller of a remote store sees what a caller
 * of a local one would. A status without a description (a transport failure, typically) gets one
 * saying which call failed.
 */
final class RemoteErrors {
  private RemoteErrors() {}

  /**
   * The exception for {@code failure}, thrown by a call described by {@code what} (such as "reading
   * blob abc/12 from grpc://host:1234").
   */
  static HearthException toHearth(Throwable failure, String what) {
    if (failure instanceof HearthException e) {
      return e;
    }
    Status status = Status.fromThrowable(failure);
    StatusCode code = StatusCode.forValue(status.getCode().value());
    if (code == StatusCode.OK) {
      // A stream that ended without the answer it owed; not an error gRPC itself reports.
      code = StatusCode.INTERNAL;
    }
    String description = status.getDescription();
    String message;
    if (description != null && !description.isBlank() && !isTransport(status)) {
      message = description;
    } else {
      Throwable cause = status.getCause();
      message =
          what
              + " failed: "
              + status.getCode()
              + (description == null || description.isBlank() ? "" : " (" + description + ")")
              + (cause == null || cause.getMessage() == null ? "" : ": " + cause.getMessage());
    }
    return new HearthException(code, message, failure);
  }

  /** A status made by the client's transport rather than sent by the server. */
  private static boolean isTransport(Status status) {
    return status.getCode() == Status.Code.UNAVAILABLE && status.getCause() != null;
  }
}
