package build.hearth.server;

import static org.assertj.core.api.Assertions.assertThat;

import build.bazel.remote.execution.v2.ContentAddressableStorageGrpc;
import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.FindMissingBlobsRequest;
import com.google.bytestream.ByteStreamProto.WriteResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A {@code tiered} store in real {@code hearth serve} processes: two servers, each with a local
 * tier of its own, in front of one shared tier (a {@code filesystem} store standing in for a shared
 * deployment, used by one server at a time since its directory is locked). A blob written through
 * the first is in the shared tier and the first server's local tier; the second server finds it
 * and, reading it, fills its own local tier.
 */
class TieredStoreProcessTest {
  private static final long SIZE = 3L << 20;
  private static final Duration TRANSFER_TIMEOUT = Duration.ofMinutes(1);

  @TempDir Path dir;

  private Path config(String name, Path local) {
    String json =
        """
        {
          "blobStores": {
            "cas": {
              "type": "tiered",
              "local": {"type": "filesystem", "path": %s},
              "shared": {"type": "filesystem", "path": %s}
            }
          },
          "actionCacheStores": {"ac": {"type": "memory"}},
          "servers": [
            {"listen": "127.0.0.1:0", "instances": {"": {"cas": "cas", "actionCache": "ac"}}}
          ]
        }
        """
            .formatted(
                ServerProcess.jsonString(local.toString()),
                ServerProcess.jsonString(dir.resolve("shared").toString()));
    return ServerProcess.writeConfig(dir.resolve(name + ".json"), json);
  }

  private static Path blobFile(Path root, Digest digest) {
    return root.resolve("blobs")
        .resolve(digest.getHash().substring(0, 2))
        .resolve(digest.getHash());
  }

  @Test
  @Timeout(value = 3, unit = TimeUnit.MINUTES)
  void aBlobWrittenThroughOneServerIsReadThroughAnother() throws InterruptedException {
    BlobPattern blob = new BlobPattern(0x7135L, SIZE);
    Digest digest = blob.digest();
    Path localA = dir.resolve("local-a");
    Path localB = dir.resolve("local-b");

    try (ServerProcess a = ServerProcess.start("tiered-a", config("a", localA), "256m")) {
      WriteResponse written =
          ByteStreamClient.write(
              a.channel(), ByteStreamClient.uploadName(digest), blob.chunks(), TRANSFER_TIMEOUT);
      assertThat(written.getCommittedSize()).as(a.describe()).isEqualTo(SIZE);
    }
    assertThat(blobFile(dir.resolve("shared"), digest)).as("in the shared tier").exists();
    assertThat(blobFile(localA, digest)).as("in the writer's local tier").exists();

    try (ServerProcess b = ServerProcess.start("tiered-b", config("b", localB), "256m")) {
      assertThat(
              ContentAddressableStorageGrpc.newBlockingStub(b.channel())
                  .findMissingBlobs(
                      FindMissingBlobsRequest.newBuilder().addBlobDigests(digest).build())
                  .getMissingBlobDigestsList())
          .as("missing on the second server; %s", b.describe())
          .isEmpty();
      assertThat(Files.exists(blobFile(localB, digest))).as("before the read").isFalse();

      assertThat(
              ByteStreamClient.readDigest(
                  b.channel(), ByteStreamClient.readName(digest), TRANSFER_TIMEOUT))
          .as("the bytes read back through the second server; %s", b.describe())
          .isEqualTo(digest);
      assertThat(blobFile(localB, digest)).as("filled into the reader's local tier").exists();
    }
  }
}
