package build.hearth.benchmarks;

import build.bazel.remote.execution.v2.ExecuteRequest;
import build.bazel.remote.execution.v2.ExecuteResponse;
import build.bazel.remote.execution.v2.ExecutedActionMetadata;
import build.bazel.remote.execution.v2.ExecutionGrpc;
import build.hearth.api.Digest;
import com.google.longrunning.Operation;
import com.google.protobuf.InvalidProtocolBufferException;
import io.grpc.ManagedChannel;
import java.time.Clock;
import java.time.Instant;
import java.util.Iterator;
import java.util.concurrent.TimeUnit;

/**
 * Calls Execute on a server's default instance ({@code ""}) the way Bazel does, one blocking call
 * per action, reading the operation stream to its done message, and checks the answer: status OK,
 * exit code 0, not served from the action cache. Thread-safe: gRPC stubs are.
 */
final class ExecuteClient {
  /** Far longer than any trivial action; only a hung server reaches it. */
  private static final long DEADLINE_SECONDS = 120;

  private final ExecutionGrpc.ExecutionBlockingStub execution;
  private final boolean skipCacheLookup;
  private final Clock clock;

  /**
   * What one Execute saw. {@code sent} and {@code received} are read from the same clock as the
   * server's {@code ExecutedActionMetadata} timestamps (the system clock of this JVM), so the
   * client's and the worker's instants can be subtracted.
   */
  record Sample(
      Instant sent, Instant received, String operation, ExecutedActionMetadata metadata) {}

  ExecuteClient(ManagedChannel channel, boolean skipCacheLookup, Clock clock) {
    this.execution = ExecutionGrpc.newBlockingStub(channel);
    this.skipCacheLookup = skipCacheLookup;
    this.clock = clock;
  }

  /**
   * Executes {@code action} and returns when its done message arrived.
   *
   * @throws IllegalStateException if the server's answer is not a successful, freshly run action
   * @throws io.grpc.StatusRuntimeException if the call fails
   */
  Sample execute(Digest action) {
    ExecuteRequest request =
        ExecuteRequest.newBuilder()
            .setActionDigest(action.toProto())
            .setSkipCacheLookup(skipCacheLookup)
            .build();
    Instant sent = clock.instant();
    Iterator<Operation> stream =
        execution.withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS).execute(request);
    Operation done = null;
    Instant received = null;
    // Read to the end of the stream even after the done message, so the call is finished and
    // nothing of it overlaps the next one.
    while (stream.hasNext()) {
      Operation operation = stream.next();
      if (operation.getDone() && done == null) {
        received = clock.instant();
        done = operation;
      }
    }
    if (done == null) {
      throw new IllegalStateException(
          "the Execute stream of " + action + " ended without a result");
    }
    ExecuteResponse response = response(action, done);
    return new Sample(sent, received, done.getName(), response.getResult().getExecutionMetadata());
  }

  private static ExecuteResponse response(Digest action, Operation done) {
    if (done.hasError()) {
      throw new IllegalStateException(
          "Execute of " + action + " failed: " + done.getError().getMessage());
    }
    ExecuteResponse response;
    try {
      response = done.getResponse().unpack(ExecuteResponse.class);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("the response of " + action + " is no ExecuteResponse", e);
    }
    if (response.getStatus().getCode() != 0) {
      throw new IllegalStateException(
          "Execute of "
              + action
              + " returned status "
              + response.getStatus().getCode()
              + ": "
              + response.getStatus().getMessage());
    }
    if (response.getCachedResult()) {
      throw new IllegalStateException(
          "Execute of " + action + " was answered from the action cache; it must run");
    }
    if (response.getResult().getExitCode() != 0) {
      throw new IllegalStateException(
          action + " exited with " + response.getResult().getExitCode() + ", expected 0");
    }
    return response;
  }
}
