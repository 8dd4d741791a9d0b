package build.hearth.server;

import static org.assertj.core.api.Assertions.assertThat;

import build.bazel.remote.execution.v2.Action;
import build.bazel.remote.execution.v2.BatchUpdateBlobsRequest;
import build.bazel.remote.execution.v2.Command;
import build.bazel.remote.execution.v2.ContentAddressableStorageGrpc;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.ExecuteRequest;
import build.bazel.remote.execution.v2.ExecuteResponse;
import build.bazel.remote.execution.v2.ExecutionGrpc;
import build.bazel.remote.execution.v2.Platform;
import build.hearth.api.Digest;
import com.google.longrunning.Operation;
import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.grpc.ManagedChannel;
import java.time.Duration;
import java.util.Iterator;
import java.util.concurrent.TimeUnit;

/**
 * The REAPI calls of the tests that run several servers as one service: an action uploaded through
 * one server, executed through another, its stream read to the end.
 */
final class ReapiCalls {
  private static final Duration DEADLINE = Duration.ofSeconds(60);

  private ReapiCalls() {}

  /** Uploads a Linux action whose command is {@code name}, with an empty input root. */
  static Digest action(ManagedChannel channel, String name) {
    Command command = Command.newBuilder().addArguments(name).build();
    Action action =
        Action.newBuilder()
            .setCommandDigest(upload(channel, command).toProto())
            .setInputRootDigest(upload(channel, Directory.getDefaultInstance()).toProto())
            .setPlatform(
                Platform.newBuilder()
                    .addProperties(
                        Platform.Property.newBuilder().setName("OSFamily").setValue("Linux")))
            .build();
    return upload(channel, action);
  }

  /** Starts an Execute of {@code action}; its stream, with a deadline of a minute. */
  static Iterator<Operation> execute(ManagedChannel channel, Digest action) {
    return ExecutionGrpc.newBlockingStub(channel)
        .withDeadlineAfter(DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
        .execute(ExecuteRequest.newBuilder().setActionDigest(action.toProto()).build());
  }

  /**
   * Reads an operation stream to its end; the response of its done message, which must be there.
   */
  static ExecuteResponse done(Iterator<Operation> stream) throws InvalidProtocolBufferException {
    Operation done = null;
    while (stream.hasNext()) {
      Operation operation = stream.next();
      if (operation.getDone()) {
        done = operation;
      }
    }
    assertThat(done).as("a done operation").isNotNull();
    assertThat(done.hasError()).as(done.getError().getMessage()).isFalse();
    return done.getResponse().unpack(ExecuteResponse.class);
  }

  /** Uploads {@code message} with BatchUpdateBlobs, which must succeed; its digest. */
  static Digest upload(ManagedChannel channel, Message message) {
    ByteString bytes = message.toByteString();
    Digest digest = Digest.of(bytes);
    assertThat(
            ContentAddressableStorageGrpc.newBlockingStub(channel)
                .batchUpdateBlobs(
                    BatchUpdateBlobsRequest.newBuilder()
                        .addRequests(
                            BatchUpdateBlobsRequest.Request.newBuilder()
                                .setDigest(digest.toProto())
                                .setData(bytes))
                        .build())
                .getResponses(0)
                .getStatus()
                .getCode())
        .isZero();
    return digest;
  }
}
