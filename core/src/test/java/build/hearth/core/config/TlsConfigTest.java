package build.hearth.core.config;

import static build.hearth.core.config.ConfigTestSupport.errorOf;
import static build.hearth.core.config.ConfigTestSupport.withServerField;
import static org.assertj.core.api.Assertions.assertThat;

import build.hearth.api.ConfigException;
import build.hearth.spi.transport.TlsSettings.ClientCertificates;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A server's "tls" block: the files' paths and the client-certificate mode. */
class TlsConfigTest {

  private static TlsConfig tls(String json) {
    return HearthConfig.parse(withServerField("tls", json), "t")
        .servers()
        .get(0)
        .tls()
        .orElseThrow();
  }

  @Test
  void aServerWithoutTlsServesPlaintext() {
    assertThat(
            HearthConfig.parse(withServerField("maxBatchSize", "\"4MiB\""), "t")
                .servers()
                .get(0)
                .tls())
        .isEmpty();
  }

  @Test
  void everyFieldBinds() {
    TlsConfig tls =
        tls(
            "{\"certificateChain\": \"/c/server.pem\", \"privateKey\": \"/c/server.key\","
                + " \"clientCa\": \"/c/ca.pem\", \"clientCertificates\": \"required\"}");

    assertThat(tls.certificateChain()).isEqualTo(Path.of("/c/server.pem"));
    assertThat(tls.privateKey()).isEqualTo(Path.of("/c/server.key"));
    assertThat(tls.clientCa()).contains(Path.of("/c/ca.pem"));
    assertThat(tls.clientCertificates()).isEqualTo(ClientCertificates.REQUIRED);
    assertThat(tls.settings().clientCertificates()).isEqualTo(ClientCertificates.REQUIRED);
  }

  @Test
  void clientCertificatesDefaultToNoneWithoutCaAndOptionalWithOne() {
    assertThat(tls("{\"certificateChain\": \"/a\", \"privateKey\": \"/b\"}").clientCertificates())
        .isEqualTo(ClientCertificates.NONE);
    assertThat(
            tls("{\"certificateChain\": \"/a\", \"privateKey\": \"/b\", \"clientCa\": \"/c\"}")
                .clientCertificates())
        .isEqualTo(ClientCertificates.OPTIONAL);
  }

  @Test
  void relativePathsAreRelativeToTheConfigurationFilesDirectory(@TempDir Path dir)
      throws Exception {
    Path config = Files.createDirectories(dir.resolve("etc")).resolve("hearth.json");
    Files.writeString(
        config,
        withServerField(
            "tls",
            "{\"certificateChain\": \"certs/server.pem\", \"privateKey\": \"../keys/server.key\","
                + " \"clientCa\": \"/abs/ca.pem\"}"));

    TlsConfig tls = HearthConfig.load(config).servers().get(0).tls().orElseThrow();

    assertThat(tls.certificateChain()).isEqualTo(dir.resolve("etc/certs/server.pem"));
    assertThat(tls.privateKey()).isEqualTo(dir.resolve("keys/server.key"));
    assertThat(tls.clientCa()).contains(Path.of("/abs/ca.pem"));
  }

  @Test
  void anUnknownModeNamesTheThreeWords() {
    ConfigException e =
        errorOf(
            withServerField(
                "tls",
                "{\"certificateChain\": \"/a\", \"privateKey\": \"/b\", \"clientCa\": \"/c\","
                    + " \"clientCertificates\": \"yes\"}"));

    assertThat(e.path()).isEqualTo("servers[0].tls.clientCertificates");
    assertThat(e.getMessage())
        .contains("servers[0].tls.clientCertificates")
        .contains("expected \"none\", \"optional\" or \"required\"");
  }

  @Test
  void requiredOrOptionalWithoutClientCaIsAnError() {
    for (String mode : new String[] {"required", "optional"}) {
      ConfigException e =
          errorOf(
              withServerField(
                  "tls",
                  "{\"certificateChain\": \"/a\", \"privateKey\": \"/b\", \"clientCertificates\": \""
                      + mode
                      + "\"}"));

      assertThat(e.path()).isEqualTo("servers[0].tls.clientCertificates");
      assertThat(e.getMessage()).contains("\"" + mode + "\" needs \"clientCa\"");
    }
  }

  @Test
  void aClientCaWithModeNoneIsAnError() {
    ConfigException e =
        errorOf(
            withServerField(
                "tls",
                "{\"certificateChain\": \"/a\", \"privateKey\": \"/b\", \"clientCa\": \"/c\","
                    + " \"clientCertificates\": \"none\"}"));

    assertThat(e.path()).isEqualTo("servers[0].tls.clientCa");
    assertThat(e.getMessage()).contains("has no effect");
  }

  @Test
  void theChainAndKeyAreRequired() {
    ConfigException e = errorOf(withServerField("tls", "{\"certificateChain\": \"/a\"}"));

    assertThat(e.getMessage()).contains("privateKey").contains("PKCS#8");
  }

  @Test
  void anUnknownFieldIsNamedWithASuggestion() {
    ConfigException e =
        errorOf(
            withServerField(
                "tls",
                "{\"certificateChain\": \"/a\", \"privateKey\": \"/b\", \"clientCA\": \"/c\"}"));

    assertThat(e.getMessage()).contains("unknown field 'clientCA'").contains("clientCa");
  }
}
