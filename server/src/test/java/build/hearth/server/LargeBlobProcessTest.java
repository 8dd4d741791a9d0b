package build.hearth.server;

import static org.assertj.core.api.Assertions.assertThat;

import build.bazel.remote.execution.v2.CapabilitiesGrpc;
import build.bazel.remote.execution.v2.ContentAddressableStorageGrpc;
import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.FindMissingBlobsRequest;
import build.bazel.remote.execution.v2.GetCapabilitiesRequest;
import com.google.bytestream.ByteStreamProto.WriteResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A blob eight times larger than the server's heap goes in through ByteStream Write and comes back
 * out through ByteStream Read, whole and in ranges, against a real {@code hearth serve} process
 * with {@code -Xmx256m} and the filesystem store. Anything that buffers a blob (or a large part of
 * one) in the server ends that process with an OutOfMemoryError, which fails the test with the
 * server's log.
 */
class LargeBlobProcessTest {
  private static final long SIZE = 2L << 30; // 2 GiB = 2147483648 bytes
  private static final Duration TRANSFER_TIMEOUT = Duration.ofMinutes(2);

  @TempDir Path dir;

  @Test
  @Timeout(value = 3, unit = TimeUnit.MINUTES)
  void twoGibBlobStreamsThroughServerWith256MibHeap() throws InterruptedException {
    Path config =
        ServerProcess.writeConfig(
            dir.resolve("hearth.json"), ServerProcess.filesystemConfig(dir, "8GiB"));
    BlobPattern blob = new BlobPattern(0x4ea7L, SIZE);
    Digest digest = blob.digest();

    try (ServerProcess server = ServerProcess.start("large-blob", config, "256m")) {
      WriteResponse written =
          ByteStreamClient.write(
              server.channel(),
              ByteStreamClient.uploadName(digest),
              blob.chunks(),
              TRANSFER_TIMEOUT);
      assertThat(written.getCommittedSize())
          .as("committed size; %s", server.describe())
          .isEqualTo(SIZE);

      assertThat(
              ContentAddressableStorageGrpc.newBlockingStub(server.channel())
                  .findMissingBlobs(
                      FindMissingBlobsRequest.newBuilder().addBlobDigests(digest).build())
                  .getMissingBlobDigestsList())
          .as("missing after upload; %s", server.describe())
          .isEmpty();

      assertThat(
              ByteStreamClient.readDigest(
                  server.channel(), ByteStreamClient.readName(digest), TRANSFER_TIMEOUT))
          .as("digest of the bytes read back; %s", server.describe())
          .isEqualTo(digest);

      // A range that starts mid-chunk near the end and spans a chunk boundary.
      long offset = SIZE - 3L * BlobPattern.CHUNK_SIZE - 12_345;
      int limit = 2 * BlobPattern.CHUNK_SIZE + 7;
      assertThat(
              ByteStreamClient.readAll(
                  server.channel(),
                  ByteStreamClient.readName(digest),
                  offset,
                  limit,
                  TRANSFER_TIMEOUT))
          .as("bytes %d+%d; %s", offset, limit, server.describe())
          .isEqualTo(blob.bytes(offset, limit));
      // The tail without a limit: read_limit 0 means to the end.
      assertThat(
              ByteStreamClient.readAll(
                  server.channel(),
                  ByteStreamClient.readName(digest),
                  SIZE - 100,
                  0,
                  TRANSFER_TIMEOUT))
          .as("the last 100 bytes; %s", server.describe())
          .isEqualTo(blob.bytes(SIZE - 100, 100));

      assertThat(server.isAlive())
          .as("server alive after the transfers; %s", server.describe())
          .isTrue();
      assertThat(
              CapabilitiesGrpc.newBlockingStub(server.channel())
                  .withDeadlineAfter(10, TimeUnit.SECONDS)
                  .getCapabilities(GetCapabilitiesRequest.getDefaultInstance())
                  .hasCacheCapabilities())
          .as("server still serving; %s", server.describe())
          .isTrue();
      assertThat(server.log()).doesNotContain("OutOfMemoryError");
      server.stop();
    }
  }
}
