package build.hearth.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import build.hearth.api.Digest;
import build.hearth.redis.testing.RedisCluster;
import build.hearth.redis.testing.RedisServer;
import build.hearth.spi.storage.BlobStore;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Large blobs as chunks, on one Redis and on a Cluster: the keys a blob has, that they share one
 * slot, and that a blob missing any chunk is absent to lookups and reads (never short).
 */
class RedisBlobStoreChunkingTest {
  private static final int CHUNK = 4096;

  @TempDir static Path dir;
  static RedisServer redis;
  static RedisCluster cluster;

  @BeforeAll
  static void start() {
    redis = RedisServer.start(dir.resolve("single"));
    cluster = RedisCluster.start(dir.resolve("cluster"));
  }

  @AfterAll
  static void stop() {
    redis.close();
    cluster.close();
  }

  /** One Redis and the Cluster, each with the redis-cli that reaches it. */
  record Target(String name, Map<String, Object> connection, Function<String[], String> cli) {
    @Override
    public String toString() {
      return name;
    }
  }

  static Stream<Target> targets() {
    return Stream.of(
        new Target("single", RedisTestStores.standalone(redis.uri()), redis::cli),
        new Target("cluster", RedisTestStores.cluster(cluster.uris()), cluster::cli));
  }

  private static BlobStore open(Target target, String prefix) {
    return RedisTestStores.blobStore(
        target.connection(), Map.of("keyPrefix", prefix, "chunkSize", CHUNK));
  }

  private static byte[] content(int size) {
    byte[] bytes = new byte[size];
    new Random(size).nextBytes(bytes);
    return bytes;
  }

  private static Digest put(BlobStore store, byte[] content) {
    Digest digest = Digest.of(content);
    try (BlobStore.Upload upload = store.startUpload(digest)) {
      // Odd write sizes, so chunk boundaries fall inside writes.
      for (int at = 0; at < content.length; at += 1000) {
        upload.write(content, at, Math.min(1000, content.length - at));
      }
      upload.commit();
    }
    return digest;
  }

  /** Every key of the store's blobs, sorted (the index's keys left out). */
  private static Set<String> blobKeys(Target target, String prefix) {
    Set<String> keys = new TreeSet<>();
    if (target.name().equals("cluster")) {
      for (RedisServer node : cluster.nodes()) {
        keys.addAll(lines(node.cli("--scan", "--pattern", prefix + "cas:{*")));
      }
    } else {
      keys.addAll(lines(redis.cli("--scan", "--pattern", prefix + "cas:{*")));
    }
    keys.removeIf(k -> k.contains("index}"));
    return keys;
  }

  private static List<String> lines(String text) {
    return text.isBlank() ? List.of() : Arrays.asList(text.split("\n"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("targets")
  void aBlobOfSeveralChunksIsAManifestAndItsChunksInOneSlot(Target target) throws IOException {
    String prefix = RedisTestStores.freshPrefix();
    byte[] content = content(5 * CHUNK + 123);
    try (BlobStore store = open(target, prefix)) {
      Digest digest = put(store, content);

      Set<String> keys = blobKeys(target, prefix);
      String base = prefix + "cas:{" + digest.hash() + "-" + digest.sizeBytes() + "}";
      assertThat(keys).hasSize(7).contains(base + ":m");
      assertThat(keys.stream().filter(k -> k.startsWith(base + ":c:"))).hasSize(6);
      if (target.name().equals("cluster")) {
        Set<String> slots = new TreeSet<>();
        for (String key : keys) {
          slots.add(cluster.cli("CLUSTER", "KEYSLOT", key));
        }
        assertThat(slots).as("the slots of %s", keys).hasSize(1);
      }
      try (InputStream in = store.read(digest, 2 * CHUNK + 7).orElseThrow()) {
        assertThat(in.readAllBytes())
            .isEqualTo(Arrays.copyOfRange(content, 2 * CHUNK + 7, content.length));
      }
      assertThat(store.stats().sizeBytes()).isEqualTo(content.length);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("targets")
  void aBlobMissingOneChunkIsAbsentToLookupsAndReads(Target target) {
    String prefix = RedisTestStores.freshPrefix();
    try (BlobStore store = open(target, prefix)) {
      Digest digest = put(store, content(4 * CHUNK + 1));
      Digest other = put(store, content(3 * CHUNK + 5));
      String chunk =
          blobKeys(target, prefix).stream()
              .filter(k -> k.contains(digest.hash()) && k.endsWith(":2"))
              .findFirst()
              .orElseThrow();

      assertThat(target.cli().apply(new String[] {"DEL", chunk})).isEqualTo("1");

      assertThat(store.contains(digest)).isFalse();
      assertThat(store.findMissing(List.of(digest, other))).containsExactly(digest);
      assertThat(store.read(digest, 0)).isEmpty();
      assertThat(store.read(digest, 3 * CHUNK)).isEmpty();
      assertThat(store.contains(other)).isTrue();
      assertThat(store.stats().sizeBytes())
          .as("the partly evicted blob is no longer counted")
          .isEqualTo(other.sizeBytes());
      assertThat(store.stats().entries()).isEqualTo(1);
    }
  }

  @Test
  void aChunkLostWhileBeingReadFailsTheReadInsteadOfEndingItShort() throws IOException {
    Target target = targets().findFirst().orElseThrow();
    String prefix = RedisTestStores.freshPrefix();
    try (BlobStore store = open(target, prefix)) {
      byte[] content = content(6 * CHUNK);
      Digest digest = put(store, content);
      try (InputStream in = store.read(digest, 0).orElseThrow()) {
        assertThat(in.readNBytes(CHUNK + 10)).isEqualTo(Arrays.copyOf(content, CHUNK + 10));
        String lastChunk =
            blobKeys(target, prefix).stream()
                .filter(k -> k.endsWith(":5"))
                .findFirst()
                .orElseThrow();
        redis.cli("DEL", lastChunk);

        assertThatThrownBy(in::readAllBytes)
            .isInstanceOf(IOException.class)
            .hasMessageContaining("lost chunk 5")
            .hasMessageContaining("rather than return a short blob");
      }
    }
  }
}
