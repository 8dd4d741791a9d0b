package build.hearth.redis;

import static org.assertj.core.api.Assertions.assertThat;

import build.hearth.api.Digest;
import build.hearth.redis.testing.RedisCluster;
import build.hearth.redis.testing.RedisServer;
import build.hearth.spi.storage.BlobStore;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * FindMissingBlobs on a Cluster sends one script call per node, for the blobs of many slots that
 * the client believes that node serves. When a slot moved behind the client's back, the node
 * refuses the call ("non local key"), and the store must then ask blob by blob: the answer stays
 * right.
 */
class RedisClusterReshardTest {
  @TempDir Path dir;

  @Test
  void aLookupAfterASlotMovedBehindTheClientsBackIsStillRight() {
    Random random = new Random(16);
    try (RedisCluster cluster = RedisCluster.start(dir);
        BlobStore store =
            RedisTestStores.blobStore(
                RedisTestStores.cluster(cluster.uris()),
                Map.of("keyPrefix", RedisTestStores.freshPrefix()))) {
      // Two blobs whose keys live on one node, in different slots.
      List<Digest> sameNode = new ArrayList<>();
      RedisServer from = null;
      while (sameNode.size() < 2) {
        Digest blob = put(store, random);
        RedisServer owner = owner(cluster, blob);
        if (from == null) {
          from = owner;
          sameNode.add(blob);
        } else if (owner == from && !slot(cluster, blob).equals(slot(cluster, sameNode.get(0)))) {
          sameNode.add(blob);
        }
      }
      Digest moved = sameNode.get(0);
      Digest stays = sameNode.get(1);
      RedisServer source = from;
      RedisServer target = cluster.nodes().stream().filter(n -> n != source).findFirst().get();
      moveSlot(cluster, slot(cluster, moved), source, target);
      assertThat(owner(cluster, moved)).isSameAs(target);

      byte[] never = new byte[32];
      random.nextBytes(never);
      Digest absent = Digest.of(never);
      // The moved blob first or second in the node's call: either way the call fails on a key
      // the node does not serve, and the store asks blob by blob.
      assertThat(store.findMissing(List.of(moved, stays, absent))).containsExactly(absent);
      assertThat(store.findMissing(List.of(stays, moved, absent))).containsExactly(absent);
    }
  }

  private static Digest put(BlobStore store, Random random) {
    byte[] content = new byte[64];
    random.nextBytes(content);
    Digest digest = Digest.of(content);
    try (BlobStore.Upload upload = store.startUpload(digest)) {
      upload.write(content, 0, content.length);
      upload.commit();
    }
    return digest;
  }

  private static String slot(RedisCluster cluster, Digest blob) {
    return cluster.cli("CLUSTER", "KEYSLOT", "{" + LruIndex.member(blob) + "}");
  }

  /** {@return the node that holds the blob's keys} */
  private static RedisServer owner(RedisCluster cluster, Digest blob) {
    String slot = slot(cluster, blob);
    return cluster.nodes().stream()
        .filter(n -> !n.cli("CLUSTER", "COUNTKEYSINSLOT", slot).equals("0"))
        .findFirst()
        .orElseThrow();
  }

  /** Moves one slot and its keys, as {@code redis-cli --cluster reshard} does, slot by slot. */
  private static void moveSlot(
      RedisCluster cluster, String slot, RedisServer source, RedisServer target) {
    String sourceId = source.cli("CLUSTER", "MYID");
    String targetId = target.cli("CLUSTER", "MYID");
    target.cli("CLUSTER", "SETSLOT", slot, "IMPORTING", sourceId);
    source.cli("CLUSTER", "SETSLOT", slot, "MIGRATING", targetId);
    List<String> migrate =
        new ArrayList<>(
            List.of("MIGRATE", "127.0.0.1", Integer.toString(target.port()), "", "0", "5000"));
    migrate.add("KEYS");
    migrate.addAll(List.of(source.cli("CLUSTER", "GETKEYSINSLOT", slot, "100").split("\\R")));
    source.cli(migrate.toArray(String[]::new));
    for (RedisServer node : cluster.nodes()) {
      node.cli("CLUSTER", "SETSLOT", slot, "NODE", targetId);
    }
  }
}
