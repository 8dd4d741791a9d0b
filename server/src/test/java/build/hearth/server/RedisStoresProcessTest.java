package build.hearth.server;

import static org.assertj.core.api.Assertions.assertThat;

import build.bazel.remote.execution.v2.ActionCacheGrpc;
import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.ContentAddressableStorageGrpc;
import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.FindMissingBlobsRequest;
import build.bazel.remote.execution.v2.GetActionResultRequest;
import build.bazel.remote.execution.v2.OutputFile;
import build.bazel.remote.execution.v2.UpdateActionResultRequest;
import build.hearth.redis.testing.RedisServer;
import com.google.bytestream.ByteStreamProto.WriteResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two {@code hearth serve} processes configured with the same Redis are one CAS and one action
 * cache: what a client stores through one, the other serves. Also proves that the server's class
 * path carries the {@code redis} store type.
 */
class RedisStoresProcessTest {
  private static final Duration CALL_TIMEOUT = Duration.ofSeconds(60);

  @TempDir Path dir;

  @Test
  @Timeout(value = 3, unit = TimeUnit.MINUTES)
  void twoServersOnOneRedisShareTheCasAndTheActionCache() throws InterruptedException {
    try (RedisServer redis = RedisServer.start(dir.resolve("redis"))) {
      String json =
          """
          {
            "blobStores": {"cas": {"type": "redis", "uri": "%s", "keyPrefix": "shared:"}},
            "actionCacheStores": {"ac": {"type": "redis", "uri": "%s", "keyPrefix": "shared:"}},
            "servers": [
              {"name": "test", "listen": "127.0.0.1:0",
               "instances": {"": {"cas": "cas", "actionCache": "ac"}}}
            ]
          }
          """
              .formatted(redis.uri(), redis.uri());
      Path config = ServerProcess.writeConfig(dir.resolve("hearth.json"), json);
      // Larger than one 1 MiB chunk: stored as chunks and a manifest.
      BlobPattern blob = new BlobPattern(7, (5L << 20) + 17);
      Digest digest = blob.digest();
      Digest actionDigest = BlobPattern.digestOf(new byte[] {1, 2, 3});
      ActionResult result =
          ActionResult.newBuilder()
              .addOutputFiles(OutputFile.newBuilder().setPath("out/blob").setDigest(digest))
              .build();

      try (ServerProcess a = ServerProcess.start("redis-a", config, "256m");
          ServerProcess b = ServerProcess.start("redis-b", config, "256m")) {
        WriteResponse written =
            ByteStreamClient.write(
                a.channel(), ByteStreamClient.uploadName(digest), blob.chunks(), CALL_TIMEOUT);
        assertThat(written.getCommittedSize()).isEqualTo(blob.size());
        ActionCacheGrpc.newBlockingStub(a.channel())
            .withDeadlineAfter(CALL_TIMEOUT.toSeconds(), TimeUnit.SECONDS)
            .updateActionResult(
                UpdateActionResultRequest.newBuilder()
                    .setActionDigest(actionDigest)
                    .setActionResult(result)
                    .build());

        assertThat(
                ContentAddressableStorageGrpc.newBlockingStub(b.channel())
                    .withDeadlineAfter(CALL_TIMEOUT.toSeconds(), TimeUnit.SECONDS)
                    .findMissingBlobs(
                        FindMissingBlobsRequest.newBuilder()
                            .addAllBlobDigests(List.of(digest))
                            .build())
                    .getMissingBlobDigestsList())
            .as("blobs missing on the other server; %s", b.describe())
            .isEmpty();
        assertThat(
                ByteStreamClient.readAll(
                    b.channel(), ByteStreamClient.readName(digest), 0, 0, CALL_TIMEOUT))
            .as("the blob read through the other server; %s", b.describe())
            .isEqualTo(blob.bytes(0, (int) blob.size()));
        assertThat(
                ActionCacheGrpc.newBlockingStub(b.channel())
                    .withDeadlineAfter(CALL_TIMEOUT.toSeconds(), TimeUnit.SECONDS)
                    .getActionResult(
                        GetActionResultRequest.newBuilder().setActionDigest(actionDigest).build()))
            .as("GetActionResult on the other server; %s", b.describe())
            .isEqualTo(result);
      }
    }
  }
}
