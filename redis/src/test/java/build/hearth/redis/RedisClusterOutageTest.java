package build.hearth.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import build.hearth.api.Digest;
import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import build.hearth.redis.testing.RedisCluster;
import build.hearth.redis.testing.RedisServer;
import build.hearth.spi.storage.BlobStore;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Cluster node stopped and restarted under an open store: while the node is gone the store's
 * calls fail with UNAVAILABLE (timed out, or the cluster reporting itself down), never a wrong
 * answer; once it is back the same store serves again.
 */
class RedisClusterOutageTest {
  @TempDir Path dir;

  private static Digest put(BlobStore store, byte[] content) {
    Digest digest = Digest.of(content);
    try (BlobStore.Upload upload = store.startUpload(digest)) {
      upload.write(content, 0, content.length);
      upload.commit();
    }
    return digest;
  }

  @Test
  void stoppedNodesAreUnavailableAndTheirReturnServesAgain() {
    String prefix = RedisTestStores.freshPrefix();
    try (RedisCluster cluster = RedisCluster.start(dir);
        BlobStore store =
            RedisTestStores.blobStore(
                RedisTestStores.cluster(cluster.uris()),
                Map.of("keyPrefix", prefix, "commandTimeout", "2s"))) {
      Digest blob = put(store, new byte[] {1, 2, 3});
      RedisServer blobNode = owner(cluster, "{" + LruIndex.member(blob) + "}");
      RedisServer indexNode = owner(cluster, "{" + prefix + "cas:index}");

      // The node of the blob's keys: its commands time out.
      blobNode.stop();
      assertUnavailable(() -> store.contains(blob));
      // Its health names the node that does not answer.
      await()
          .atMost(Duration.ofSeconds(60))
          .untilAsserted(
              () ->
                  assertThat(store.health().problem())
                      .hasValueSatisfying(
                          problem ->
                              assertThat(problem)
                                  .contains("Redis Cluster via redis://127.0.0.1:")
                                  .contains("node 127.0.0.1:" + blobNode.port())));
      blobNode.start();
      awaitServing(store);
      await().atMost(Duration.ofSeconds(60)).until(() -> store.health().isHealthy());

      // A node holding neither: once the others see it fail, they answer CLUSTERDOWN, which is
      // UNAVAILABLE too, not INTERNAL.
      RedisServer bystander =
          cluster.nodes().stream()
              .filter(n -> n != blobNode && n != indexNode)
              .findFirst()
              .orElseThrow();
      bystander.stop();
      await()
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(200))
          .until(() -> indexNode.cli("CLUSTER", "INFO").contains("cluster_state:fail"));
      assertUnavailable(() -> store.findMissing(List.of(blob)));
      bystander.start();
      awaitServing(store);
    }
  }

  /** {@return the node that holds keys with this hash tag (it has at least one)} */
  private static RedisServer owner(RedisCluster cluster, String tag) {
    String slot = cluster.cli("CLUSTER", "KEYSLOT", tag);
    return cluster.nodes().stream()
        .filter(n -> !n.cli("CLUSTER", "COUNTKEYSINSLOT", slot).equals("0"))
        .findFirst()
        .orElseThrow();
  }

  private static void assertUnavailable(Runnable call) {
    assertThatThrownBy(call::run)
        .isInstanceOfSatisfying(
            HearthException.class,
            e -> assertThat(e.code()).as("%s", e).isEqualTo(StatusCode.UNAVAILABLE))
        .hasMessageContaining("Redis Cluster via redis://127.0.0.1:");
  }

  private static void awaitServing(BlobStore store) {
    await()
        .atMost(Duration.ofSeconds(90))
        .pollInterval(Duration.ofMillis(200))
        .ignoreException(HearthException.class)
        .untilAsserted(
            () -> {
              Digest again = put(store, new byte[] {4, 5, 6});
              assertThat(store.contains(again)).isTrue();
            });
  }
}
