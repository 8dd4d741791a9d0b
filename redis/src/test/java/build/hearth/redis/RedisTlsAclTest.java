package build.hearth.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import build.hearth.api.Digest;
import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import build.hearth.grpc.tls.TestCertificates;
import build.hearth.redis.testing.RedisServer;
import build.hearth.spi.storage.ActionCacheStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Redis that speaks only TLS (certificates made here) and admits only an ACL user with a
 * password: the store connects with {@code rediss://}, {@code caFile}, {@code user} and {@code
 * passwordFile}; a wrong password or an untrusted CA is UNAVAILABLE with a message saying what to
 * check.
 */
class RedisTlsAclTest {
  @TempDir static Path dir;
  static RedisServer redis;
  static Path ca;
  static Path otherCa;
  static Path password;
  static Path wrongPassword;

  @BeforeAll
  static void start() throws Exception {
    TestCertificates.Authority authority = TestCertificates.authority("redis test CA");
    ca = authority.writeCertificate(dir.resolve("ca.pem"));
    otherCa =
        TestCertificates.authority("another CA").writeCertificate(dir.resolve("other-ca.pem"));
    TestCertificates.Issued server = authority.server("localhost", TestCertificates.KeyType.EC);
    Path certificate = server.writeCertificate(dir.resolve("server.pem"));
    Path key = server.writeKey(dir.resolve("server.key"));
    password = Files.writeString(dir.resolve("password"), "hearth-s3cret\n");
    wrongPassword = Files.writeString(dir.resolve("wrong"), "guess\n");
    redis =
        RedisServer.startTls(
            dir.resolve("redis"),
            certificate,
            key,
            ca,
            "--user",
            "default",
            "off",
            "--user",
            "hearth",
            "on",
            ">hearth-s3cret",
            "~*",
            "&*",
            "+@all");
  }

  @AfterAll
  static void stop() {
    redis.close();
  }

  private static Map<String, Object> settings(Path caFile, Path passwordFile) {
    Map<String, Object> settings = new HashMap<>();
    settings.put("uri", "rediss://localhost:" + redis.port());
    settings.put("caFile", caFile.toString());
    settings.put("user", "hearth");
    settings.put("passwordFile", passwordFile.toString());
    settings.put("keyPrefix", RedisTestStores.freshPrefix());
    return settings;
  }

  @Test
  void theAclUserConnectsOverTls() {
    try (ActionCacheStore store =
        RedisTestStores.actionCacheStore(settings(ca, password), Map.of())) {
      Digest action = Digest.of(new byte[] {1});
      store.put(action, new byte[] {2});
      assertThat(store.get(action)).hasValue(new byte[] {2});
    }
  }

  @Test
  void aWrongPasswordIsUnavailableNamingTheCredentials() {
    assertThatThrownBy(
            () -> RedisTestStores.actionCacheStore(settings(ca, wrongPassword), Map.of()))
        .isInstanceOfSatisfying(
            HearthException.class, e -> assertThat(e.code()).isEqualTo(StatusCode.UNAVAILABLE))
        .hasMessageContaining("rediss://localhost:" + redis.port())
        .hasMessageContaining("\"passwordFile\"");
  }

  @Test
  void aServerCertificateFromAnotherCaIsRefused() {
    assertThatThrownBy(
            () -> RedisTestStores.actionCacheStore(settings(otherCa, password), Map.of()))
        .isInstanceOfSatisfying(
            HearthException.class, e -> assertThat(e.code()).isEqualTo(StatusCode.UNAVAILABLE))
        .hasMessageContaining("rediss://localhost:" + redis.port())
        .hasMessageContaining("\"caFile\"");
  }
}
