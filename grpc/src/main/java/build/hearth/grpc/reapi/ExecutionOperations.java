package build.hearth.grpc.reapi;

import build.bazel.remote.execution.v2.DigestFunction;
import build.bazel.remote.execution.v2.ExecuteOperationMetadata;
import build.bazel.remote.execution.v2.ExecuteResponse;
import build.bazel.remote.execution.v2.ExecutionStage;
import build.hearth.api.Execution;
import build.hearth.api.StatusCode;
import build.hearth.grpc.common.Rpc;
import com.google.longrunning.Operation;
import com.google.protobuf.Any;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * How an {@link Execution} looks on the wire: a {@code google.longrunning.Operation} named after
 * it, whose metadata is an {@code ExecuteOperationMetadata} and whose response, once done, is the
 * {@code ExecuteResponse}.
 *
 * <p>A failed action is still a done operation with a response: REAPI reports a command over its
 * timeout, a cancelled execution or missing inputs in {@code ExecuteResponse.status}, and Bazel
 * reads that field (a DEADLINE_EXCEEDED there becomes a test timeout rather than a transport
 * error). {@code Operation.error} is used only if the core breaks its promise that the result never
 * fails.
 */
final class ExecutionOperations {
  private ExecutionOperations() {}

  /** An operation that has not finished, at {@code stage}. */
  static Operation progress(Execution execution, ExecutionStage.Value stage) {
    return Operation.newBuilder()
        .setName(execution.name())
        .setMetadata(metadata(execution, stage))
        .build();
  }

  /** The finished operation carrying {@code response}. */
  static Operation completed(Execution execution, ExecuteResponse response) {
    return Operation.newBuilder()
        .setName(execution.name())
        .setMetadata(metadata(execution, ExecutionStage.Value.COMPLETED))
        .setDone(true)
        .setResponse(Any.pack(response))
        .build();
  }

  /** The finished operation for a result future that failed instead of answering. */
  static Operation failed(Execution execution, Throwable failure) {
    Throwable cause =
        failure instanceof CompletionException && failure.getCause() != null
            ? failure.getCause()
            : failure;
    com.google.rpc.Status status =
        cause instanceof CancellationException
            ? Rpc.rpcStatus(StatusCode.CANCELLED, "the execution was cancelled")
            : Rpc.rpcStatus(cause);
    return Operation.newBuilder()
        .setName(execution.name())
        .setMetadata(metadata(execution, ExecutionStage.Value.COMPLETED))
        .setDone(true)
        .setError(status)
        .build();
  }

  /** The operation as it stands now. */
  static Operation snapshot(Execution execution) {
    CompletableFuture<ExecuteResponse> result = execution.result();
    if (!result.isDone()) {
      ExecutionStage.Value stage = execution.stage();
      // The stage may already say COMPLETED while the response is being handed over; until it is
      // there the operation is not done, and a COMPLETED stage without a response would puzzle a
      // client, so report the execution as still running.
      if (stage == ExecutionStage.Value.COMPLETED) {
        stage = ExecutionStage.Value.EXECUTING;
      }
      return progress(execution, stage);
    }
    ExecuteResponse response;
    try {
      response = result.join();
    } catch (CompletionException | CancellationException e) {
      return failed(execution, e);
    }
    return completed(execution, response);
  }

  private static Any metadata(Execution execution, ExecutionStage.Value stage) {
    return Any.pack(
        ExecuteOperationMetadata.newBuilder()
            .setStage(stage)
            .setActionDigest(execution.actionDigest().toProto())
            .setDigestFunction(DigestFunction.Value.SHA256)
            .build());
  }
}
