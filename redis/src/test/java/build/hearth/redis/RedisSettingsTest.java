package build.hearth.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import build.hearth.api.ConfigException;
import build.hearth.spi.storage.StoreContext;
import build.hearth.spi.storage.StoreSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad settings are refused before anything connects, each with an error naming its field; good ones
 * read as written. No Redis is needed: every refusal comes first.
 */
class RedisSettingsTest {
  @TempDir Path dir;

  private static Map<String, Object> with(Object... pairs) {
    Map<String, Object> map = new HashMap<>();
    for (int i = 0; i < pairs.length; i += 2) {
      map.put((String) pairs[i], pairs[i + 1]);
    }
    return map;
  }

  private static void assertRefused(Map<String, Object> values, String field, String problem) {
    StoreSettings settings = StoreSettings.of("blobStores.cas", values);
    assertThatThrownBy(
            () ->
                new RedisBlobStoreProvider()
                    .create(StoreContext.newBuilder("cas", settings).build()))
        .isInstanceOfSatisfying(
            ConfigException.class,
            e -> assertThat(e.path()).as("%s", e).isEqualTo("blobStores.cas." + field))
        .hasMessageContaining(problem);
  }

  @Test
  void aTopologyIsRequiredAndOnlyOne() {
    assertRefused(with(), "uri", "is required");
    assertRefused(
        with("uri", "redis://a:1", "cluster", Map.of("nodes", List.of("redis://b:2"))),
        "uri",
        "only one of");
  }

  @Test
  void uriMustBeARedisUriWithoutCredentials() {
    assertRefused(with("uri", "http://a:1"), "uri", "expected redis://host:port");
    assertRefused(with("uri", "redis://:secret@a:1"), "uri", "passwordFile");
    assertRefused(with("uri", "redis://a:1/x"), "uri", "database number");
    assertRefused(with("uri", 6379L), "uri", "expected a string");
  }

  @Test
  void sentinelAndClusterNeedTheirFields() {
    assertRefused(
        with("sentinel", Map.of("nodes", List.of("redis://s:26379"))),
        "sentinel.masterName",
        "is required");
    assertRefused(
        with("sentinel", Map.of("masterName", "m", "nodes", List.of())),
        "sentinel.nodes",
        "non-empty array");
    assertRefused(
        with("sentinel", Map.of("masterName", "m", "nodes", List.of("s:1"))),
        "sentinel.nodes[0]",
        "expected redis://");
    assertRefused(
        with("cluster", Map.of("nodes", List.of("redis://a:1"), "seeds", 3L)),
        "cluster.seeds",
        "unknown field");
    assertRefused(with("cluster", "redis://a:1"), "cluster", "expected an object");
  }

  @Test
  void credentialsComeFromAReadableFile() throws Exception {
    assertRefused(
        with("uri", "redis://a:1", "passwordFile", dir.resolve("absent").toString()),
        "passwordFile",
        "cannot read");
    Path empty = Files.writeString(dir.resolve("empty"), "\n");
    assertRefused(
        with("uri", "redis://a:1", "passwordFile", empty.toString()), "passwordFile", "is empty");
    assertRefused(with("uri", "redis://a:1", "user", "hearth"), "passwordFile", "is required");
    assertRefused(with("uri", "redis://a:1", "user", "two words"), "user", "without spaces");
  }

  @Test
  void caFileNeedsTlsAndAFile() throws Exception {
    Path ca = Files.writeString(dir.resolve("ca.pem"), "x");
    assertRefused(with("uri", "redis://a:1", "caFile", ca.toString()), "caFile", "rediss://");
    assertRefused(
        with("uri", "rediss://a:1", "caFile", dir.resolve("none.pem").toString()),
        "caFile",
        "cannot read");
  }

  @Test
  void storeSettingsAreChecked() {
    assertRefused(with("uri", "redis://a:1", "keyPrefix", "a{b}:"), "keyPrefix", "hash tags");
    assertRefused(with("uri", "redis://a:1", "maxSize", 0L), "maxSize", "positive");
    assertRefused(with("uri", "redis://a:1", "chunkSize", "100B"), "chunkSize", "between 1KiB");
    assertRefused(with("uri", "redis://a:1", "chunkSize", "1GiB"), "chunkSize", "between 1KiB");
    assertRefused(with("uri", "redis://a:1", "ttl", "500ms"), "ttl", "at least 1s");
    assertRefused(with("uri", "redis://a:1", "ttl", "soon"), "ttl", "positive duration");
    assertRefused(
        with("uri", "redis://a:1", "commandTimeout", "0s"), "commandTimeout", "positive duration");
    assertRefused(with("uri", "redis://a:1", "readGrace", 1.5), "readGrace", "positive duration");
  }

  @Test
  void goodSettingsReadAsWritten() throws Exception {
    Path password = Files.writeString(dir.resolve("pw"), "s3cret\n");
    RedisConnectionSettings settings =
        RedisConnectionSettings.from(
            StoreSettings.of(
                "scheduler.redis",
                with(
                    "sentinel",
                    Map.of(
                        "masterName", "main", "nodes", List.of("redis://s1:26379", "redis://s2")),
                    "user",
                    "hearth",
                    "passwordFile",
                    password.toString(),
                    "connectTimeout",
                    "2s",
                    "commandTimeout",
                    "750ms")));
    assertThat(settings.topology()).isEqualTo(RedisConnectionSettings.Topology.SENTINEL);
    assertThat(settings.masterName()).hasValue("main");
    assertThat(settings.nodes()).hasSize(2);
    assertThat(settings.user()).hasValue("hearth");
    assertThat(settings.password())
        .hasValueSatisfying(p -> assertThat(new String(p)).isEqualTo("s3cret"));
    assertThat(settings.connectTimeout()).isEqualTo(Duration.ofSeconds(2));
    assertThat(settings.commandTimeout()).isEqualTo(Duration.ofMillis(750));
    assertThat(settings.toString()).doesNotContain("s3cret");
  }

  @Test
  void serviceLoaderFindsBothStores() {
    assertThat(ServiceLoader.load(build.hearth.spi.storage.BlobStoreProvider.class).stream())
        .anyMatch(p -> p.type() == RedisBlobStoreProvider.class);
    assertThat(ServiceLoader.load(build.hearth.spi.storage.ActionCacheStoreProvider.class).stream())
        .anyMatch(p -> p.type() == RedisActionCacheStoreProvider.class);
  }
}
