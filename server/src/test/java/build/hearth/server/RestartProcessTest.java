package build.hearth.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import build.bazel.remote.execution.v2.Action;
import build.bazel.remote.execution.v2.ActionCacheGrpc;
import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.BatchReadBlobsRequest;
import build.bazel.remote.execution.v2.BatchReadBlobsResponse;
import build.bazel.remote.execution.v2.BatchUpdateBlobsRequest;
import build.bazel.remote.execution.v2.BatchUpdateBlobsResponse;
import build.bazel.remote.execution.v2.Command;
import build.bazel.remote.execution.v2.ContentAddressableStorageGrpc;
import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.FindMissingBlobsRequest;
import build.bazel.remote.execution.v2.GetActionResultRequest;
import build.bazel.remote.execution.v2.OutputFile;
import build.bazel.remote.execution.v2.UpdateActionResultRequest;
import com.google.bytestream.ByteStreamGrpc;
import com.google.bytestream.ByteStreamProto.QueryWriteStatusRequest;
import com.google.bytestream.ByteStreamProto.WriteRequest;
import com.google.bytestream.ByteStreamProto.WriteResponse;
import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * What one {@code hearth serve} process stored, a second process on the same store paths serves:
 * blobs uploaded through both BatchUpdateBlobs and ByteStream, and an action result. Between the
 * two, the first process is stopped with SIGTERM and must shut down cleanly.
 */
class RestartProcessTest {
  private static final Duration CALL_TIMEOUT = Duration.ofSeconds(60);

  @TempDir Path dir;

  @Test
  @Timeout(value = 2, unit = TimeUnit.MINUTES)
  void blobsAndActionResultSurviveRestart() throws InterruptedException {
    Path config =
        ServerProcess.writeConfig(
            dir.resolve("hearth.json"), ServerProcess.filesystemConfig(dir, "1GiB"));

    Map<Digest, byte[]> small = new LinkedHashMap<>();
    byte[] stdout = "compiled 3 files\n".getBytes(StandardCharsets.UTF_8);
    byte[] classFile = new BlobPattern(1, 4_321).bytes(0, 4_321);
    byte[] jar = new BlobPattern(2, 100_000).bytes(0, 100_000);
    Command command =
        Command.newBuilder()
            .addArguments("javac")
            .addArguments("-d")
            .addArguments("out")
            .addOutputPaths("out/Hello.class")
            .addOutputPaths("out/hello.jar")
            .build();
    Action action =
        Action.newBuilder()
            .setCommandDigest(BlobPattern.digestOf(command.toByteArray()))
            .setDoNotCache(false)
            .build();
    for (byte[] bytes :
        List.of(stdout, classFile, jar, command.toByteArray(), action.toByteArray())) {
      small.put(BlobPattern.digestOf(bytes), bytes);
    }
    Digest actionDigest = BlobPattern.digestOf(action.toByteArray());
    BlobPattern big = new BlobPattern(20, 20L << 20);
    Digest bigDigest = big.digest();
    ActionResult result =
        ActionResult.newBuilder()
            .addOutputFiles(
                OutputFile.newBuilder()
                    .setPath("out/Hello.class")
                    .setDigest(BlobPattern.digestOf(classFile)))
            .addOutputFiles(
                OutputFile.newBuilder()
                    .setPath("out/hello.jar")
                    .setDigest(BlobPattern.digestOf(jar))
                    .setIsExecutable(true))
            .addOutputFiles(OutputFile.newBuilder().setPath("out/big.bin").setDigest(bigDigest))
            .setStdoutDigest(BlobPattern.digestOf(stdout))
            .setExitCode(0)
            .build();

    try (ServerProcess first = ServerProcess.start("restart-first", config, "256m")) {
      BatchUpdateBlobsRequest.Builder batch = BatchUpdateBlobsRequest.newBuilder();
      small.forEach(
          (digest, bytes) ->
              batch.addRequests(
                  BatchUpdateBlobsRequest.Request.newBuilder()
                      .setDigest(digest)
                      .setData(ByteString.copyFrom(bytes))));
      BatchUpdateBlobsResponse updated = cas(first.channel()).batchUpdateBlobs(batch.build());
      assertThat(updated.getResponsesList())
          .as("BatchUpdateBlobs statuses; %s", first.describe())
          .hasSize(small.size())
          .allSatisfy(response -> assertThat(response.getStatus().getCode()).isZero());

      WriteResponse written =
          ByteStreamClient.write(
              first.channel(), ByteStreamClient.uploadName(bigDigest), big.chunks(), CALL_TIMEOUT);
      assertThat(written.getCommittedSize()).isEqualTo(big.size());

      ActionResult stored =
          ActionCacheGrpc.newBlockingStub(first.channel())
              .withDeadlineAfter(CALL_TIMEOUT.toSeconds(), TimeUnit.SECONDS)
              .updateActionResult(
                  UpdateActionResultRequest.newBuilder()
                      .setActionDigest(actionDigest)
                      .setActionResult(result)
                      .build());
      assertThat(stored).as("UpdateActionResult's answer; %s", first.describe()).isEqualTo(result);

      first.stop();
    }

    try (ServerProcess second = ServerProcess.start("restart-second", config, "256m")) {
      List<Digest> all = new ArrayList<>(small.keySet());
      all.add(bigDigest);
      assertThat(
              cas(second.channel())
                  .findMissingBlobs(
                      FindMissingBlobsRequest.newBuilder().addAllBlobDigests(all).build())
                  .getMissingBlobDigestsList())
          .as("blobs missing after the restart; %s", second.describe())
          .isEmpty();

      BatchReadBlobsResponse read =
          cas(second.channel())
              .batchReadBlobs(
                  BatchReadBlobsRequest.newBuilder().addAllDigests(small.keySet()).build());
      assertThat(read.getResponsesList()).hasSize(small.size());
      for (BatchReadBlobsResponse.Response response : read.getResponsesList()) {
        assertThat(response.getStatus().getCode())
            .as("status reading %s; %s", response.getDigest(), second.describe())
            .isZero();
        assertThat(response.getData().toByteArray())
            .as("bytes of %s", response.getDigest())
            .isEqualTo(small.get(response.getDigest()));
      }

      assertThat(
              ByteStreamClient.readAll(
                  second.channel(), ByteStreamClient.readName(bigDigest), 0, 0, CALL_TIMEOUT))
          .as("the 20 MiB blob after the restart; %s", second.describe())
          .isEqualTo(big.bytes(0, (int) big.size()));

      assertThat(
              ActionCacheGrpc.newBlockingStub(second.channel())
                  .withDeadlineAfter(CALL_TIMEOUT.toSeconds(), TimeUnit.SECONDS)
                  .getActionResult(
                      GetActionResultRequest.newBuilder().setActionDigest(actionDigest).build()))
          .as("GetActionResult after the restart; %s", second.describe())
          .isEqualTo(result);

      second.stop();
    }
  }

  /**
   * A client that stops sending halfway through an upload must not hold up shutdown beyond the
   * grace period, and the half-written blob must not appear in the CAS, before or after a restart.
   */
  @Test
  @Timeout(value = 2, unit = TimeUnit.MINUTES)
  void sigtermDuringStalledUploadStopsCleanlyAndKeepsNoPartialBlob() throws InterruptedException {
    Path config =
        ServerProcess.writeConfig(
            dir.resolve("hearth.json"), ServerProcess.filesystemConfig(dir, "1GiB"));
    BlobPattern blob = new BlobPattern(64, 64L << 20);
    Digest digest = blob.digest();
    String uploadName = ByteStreamClient.uploadName(digest);
    int sentChunks = 16;
    long sentBytes = (long) sentChunks * BlobPattern.CHUNK_SIZE;
    CompletableFuture<Void> stalledWrite = new CompletableFuture<>();

    try (ServerProcess first = ServerProcess.start("stalled-upload-first", config, "256m")) {
      StreamObserver<WriteRequest> requests =
          ByteStreamGrpc.newStub(first.channel()).write(completing(stalledWrite));
      // 16 MiB is little enough to queue without flow control; the call is never half-closed.
      for (int i = 0; i < sentChunks; i++) {
        WriteRequest.Builder request =
            WriteRequest.newBuilder()
                .setWriteOffset((long) i * BlobPattern.CHUNK_SIZE)
                .setData(UnsafeByteOperations.unsafeWrap(blob.chunk(i)));
        if (i == 0) {
          request.setResourceName(uploadName);
        }
        requests.onNext(request.build());
      }
      QueryWriteStatusRequest query =
          QueryWriteStatusRequest.newBuilder().setResourceName(uploadName).build();
      await("the server to receive the first " + sentBytes + " bytes")
          .atMost(Duration.ofSeconds(30))
          .ignoreExceptionsInstanceOf(StatusRuntimeException.class)
          .until(
              () ->
                  ByteStreamGrpc.newBlockingStub(first.channel())
                          .withDeadlineAfter(5, TimeUnit.SECONDS)
                          .queryWriteStatus(query)
                          .getCommittedSize()
                      == sentBytes);
      assertThat(stalledWrite).as("the stalled write is still open").isNotDone();

      first.stop();
      assertThat(stalledWrite)
          .as("the stalled write ended by the shutdown; %s", first.describe())
          .failsWithin(Duration.ofSeconds(10));
    }

    try (ServerProcess second = ServerProcess.start("stalled-upload-second", config, "256m")) {
      assertThat(
              cas(second.channel())
                  .findMissingBlobs(
                      FindMissingBlobsRequest.newBuilder().addBlobDigests(digest).build())
                  .getMissingBlobDigestsList())
          .as("the half-written blob after the restart; %s", second.describe())
          .containsExactly(digest);
      assertThatThrownBy(
              () ->
                  ByteStreamClient.readAll(
                      second.channel(), ByteStreamClient.readName(digest), 0, 0, CALL_TIMEOUT))
          .isInstanceOfSatisfying(
              StatusRuntimeException.class,
              e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));

      // Nothing left over from the interrupted upload gets in the way of writing it again.
      WriteResponse written =
          ByteStreamClient.write(
              second.channel(), ByteStreamClient.uploadName(digest), blob.chunks(), CALL_TIMEOUT);
      assertThat(written.getCommittedSize()).isEqualTo(blob.size());
      assertThat(
              ByteStreamClient.readDigest(
                  second.channel(), ByteStreamClient.readName(digest), CALL_TIMEOUT))
          .isEqualTo(digest);

      second.stop();
    }
  }

  /** An observer that completes {@code done} when the call ends, either way. */
  private static <T> StreamObserver<T> completing(CompletableFuture<Void> done) {
    return new StreamObserver<>() {
      @Override
      public void onNext(T value) {}

      @Override
      public void onError(Throwable t) {
        done.completeExceptionally(t);
      }

      @Override
      public void onCompleted() {
        done.complete(null);
      }
    };
  }

  private static ContentAddressableStorageGrpc.ContentAddressableStorageBlockingStub cas(
      Channel channel) {
    return ContentAddressableStorageGrpc.newBlockingStub(channel)
        .withDeadlineAfter(CALL_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
  }
}
