package build.hearth.grpc.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import build.hearth.grpc.tls.TestCertificates.Authority;
import build.hearth.grpc.tls.TestCertificates.Issued;
import build.hearth.grpc.tls.TestCertificates.KeyType;
import build.hearth.spi.transport.TlsSettings;
import build.hearth.spi.transport.TlsSettings.ClientCertificates;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every file problem stops the start with a message that names the file and the problem. */
class ServerTlsStartTest {
  @TempDir Path dir;
  private Authority ca;
  private Issued server;
  private Path chain;
  private Path key;

  @BeforeEach
  void files() {
    ca = TestCertificates.authority("CA");
    server = ca.server("server", KeyType.EC);
    chain = server.writeChain(dir.resolve("server.pem"));
    key = server.writeKey(dir.resolve("server.key"));
  }

  private static HearthException failure(TlsSettings settings) {
    HearthException e =
        catchThrowableOfType(
            HearthException.class,
            () ->
                ServerTls.start(settings, "t", Duration.ofSeconds(10), Clock.systemUTC()).close());
    assertThat(e).as("the start should have failed").isNotNull();
    assertThat(e.code()).isEqualTo(StatusCode.FAILED_PRECONDITION);
    return e;
  }

  @Test
  void goodFilesStart() {
    for (KeyType type : KeyType.values()) {
      Issued issued = ca.server("s-" + type, type);
      try (ServerTls tls =
          ServerTls.start(
              TlsSettings.newBuilder(
                      issued.writeChain(dir.resolve(type + ".pem")),
                      issued.writeKey(dir.resolve(type + ".key")))
                  .build(),
              "t",
              Duration.ofSeconds(10),
              Clock.systemUTC())) {
        assertThat(tls.describe()).startsWith("CN=s-" + type);
      }
    }
  }

  @Test
  void aMissingFileIsNamed() {
    Path missing = dir.resolve("nowhere.pem");

    HearthException e = failure(TlsSettings.newBuilder(missing, key).build());

    assertThat(e.getMessage())
        .isEqualTo(
            "cannot use the TLS certificate chain " + missing.toAbsolutePath() + ": no such file");
  }

  @Test
  void anUnreadableFileIsNamed() throws Exception {
    Files.setPosixFilePermissions(key, java.util.Set.of());
    if (Files.isReadable(key)) {
      // Running as root, which reads anything; a directory is as unreadable as a PEM file gets.
      key = Files.createDirectory(dir.resolve("key-dir"));
    }

    HearthException e = failure(TlsSettings.newBuilder(chain, key).build());

    assertThat(e.getMessage())
        .contains(key.toString())
        .containsAnyOf("permission denied", "directory");
  }

  @Test
  void aFileWithoutACertificateIsNamed() throws Exception {
    Files.writeString(chain, "hello\n");

    HearthException e = failure(TlsSettings.newBuilder(chain, key).build());

    assertThat(e.getMessage())
        .contains("certificate chain " + chain)
        .contains("no certificate in the file");
  }

  @Test
  void theKeyGivenForTheCertificateIsRecognised() {
    HearthException e = failure(TlsSettings.newBuilder(key, key).build());

    assertThat(e.getMessage()).contains("holds a private key but no certificate");
  }

  @Test
  void aPkcs1OrSec1KeySaysHowToConvertIt() {
    for (KeyType type : KeyType.values()) {
      Issued issued = ca.server("s", type);
      Path pem = issued.writeChain(dir.resolve("c-" + type + ".pem"));
      Path traditional = issued.writeTraditionalKey(dir.resolve("t-" + type + ".key"));

      HearthException e = failure(TlsSettings.newBuilder(pem, traditional).build());

      assertThat(e.getMessage())
          .contains("private key " + traditional)
          .contains(type == KeyType.RSA ? "BEGIN RSA PRIVATE KEY" : "BEGIN EC PRIVATE KEY")
          .contains("openssl pkcs8 -topk8 -nocrypt -in " + traditional);
    }
  }

  @Test
  void aKeyOfAnotherCertificateIsRefused() {
    Path other = ca.server("other", KeyType.EC).writeKey(dir.resolve("other.key"));
    Path rsa = ca.server("rsa", KeyType.RSA).writeKey(dir.resolve("rsa.key"));

    assertThat(failure(TlsSettings.newBuilder(chain, other).build()).getMessage())
        .contains("private key " + other)
        .contains("does not belong to the certificate CN=server");
    assertThat(failure(TlsSettings.newBuilder(chain, rsa).build()).getMessage())
        .contains("a RSA key for a EC certificate");
  }

  @Test
  void anExpiredOrNotYetValidServerCertificateIsRefused() {
    Instant now = Instant.now();
    Issued expired =
        ca.issue("old", KeyType.EC, now.minus(Duration.ofDays(2)), now.minusSeconds(60), true);
    Issued future =
        ca.issue(
            "new", KeyType.EC, now.plus(Duration.ofDays(1)), now.plus(Duration.ofDays(2)), true);

    assertThat(
            failure(
                    TlsSettings.newBuilder(
                            expired.writeChain(dir.resolve("old.pem")),
                            expired.writeKey(dir.resolve("old.key")))
                        .build())
                .getMessage())
        .contains("old.pem")
        .contains("expired on");
    assertThat(
            failure(
                    TlsSettings.newBuilder(
                            future.writeChain(dir.resolve("new.pem")),
                            future.writeKey(dir.resolve("new.key")))
                        .build())
                .getMessage())
        .contains("is not valid before");
  }

  @Test
  void aClientCaBundleWithoutCertificatesIsNamed() throws Exception {
    Path bundle = Files.writeString(dir.resolve("ca.pem"), "# empty\n");

    HearthException e =
        failure(
            TlsSettings.newBuilder(chain, key)
                .clientCa(bundle)
                .clientCertificates(ClientCertificates.REQUIRED)
                .build());

    assertThat(e.getMessage()).contains("client CA bundle " + bundle).contains("no certificate");
  }

  @Test
  void aDamagedCertificateIsNamedWithItsPlace() throws Exception {
    Files.writeString(
        chain,
        Files.readString(chain) + "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");

    HearthException e = failure(TlsSettings.newBuilder(chain, key).build());

    assertThat(e.getMessage()).contains("certificate 3 in the file is damaged");
  }
}
