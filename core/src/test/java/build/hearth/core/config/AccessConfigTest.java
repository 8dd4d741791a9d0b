package build.hearth.core.config;

import static build.hearth.core.config.ConfigTestSupport.errorOf;
import static build.hearth.core.config.ConfigTestSupport.withServerField;
import static org.assertj.core.api.Assertions.assertThat;

import build.hearth.api.ConfigException;
import build.hearth.core.config.AccessConfig.Policy;
import build.hearth.spi.security.Permission;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The {@code authentication}, {@code permissions} and {@code insecureAllowUnauthenticated} fields.
 */
class AccessConfigTest {
  private static final String HASH =
      "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

  private static ServerConfig server(String fields, String listen) {
    String json =
        """
        {
          "blobStores": { "cas": { "type": "memory" } },
          "servers": [ { "listen": "%s", "instances": { "": { "cas": "cas" } }%s } ]
        }
        """
            .formatted(listen, fields.isEmpty() ? "" : ",\n" + fields);
    return HearthConfig.parse(json, "test.json").servers().get(0);
  }

  @Test
  void absentFieldsTrustLoopbackAndAuthenticateNoOne() {
    AccessConfig access = server("", "127.0.0.1:0").access();

    assertThat(access).isEqualTo(AccessConfig.NONE);
    assertThat(access.trustLoopback()).isTrue();
    assertThat(access.hasBearerAuthentication()).isFalse();
    assertThat(access.permissions()).isEmpty();
  }

  @Test
  void tokensJwtAndPoliciesBind() {
    AccessConfig access =
        server(
                """
                "authentication": {
                  "tokens": [ { "name": "ci", "sha256": "%s" }, { "name": "dev", "file": "dev.token" } ],
                  "jwt": { "issuer": "https://issuer.example", "audience": "hearth", "jwks": "jwks.json" }
                },
                "permissions": [
                  { "identities": ["token:ci"], "instances": ["", "team-a/*"], "grant": ["read", "execute"] }
                ]
                """
                    .formatted(HASH.toUpperCase()),
                "0.0.0.0:0")
            .access();

    AccessConfig.Authentication authentication = access.authentication().orElseThrow();
    assertThat(access.trustLoopback()).isFalse();
    assertThat(authentication.tokens()).hasSize(2);
    assertThat(authentication.tokens().get(0).sha256().orElseThrow()).hasSize(32);
    assertThat(authentication.tokens().get(1).file()).contains(Path.of("dev.token"));
    assertThat(authentication.tokens().get(1).fieldPath())
        .isEqualTo("servers[0].authentication.tokens[1].file");
    assertThat(authentication.tokens().get(1).line()).isEqualTo(5);
    AccessConfig.Jwt jwt = authentication.jwt().orElseThrow();
    assertThat(jwt.identityClaim()).isEqualTo("sub");
    assertThat(jwt.jwks()).contains(Path.of("jwks.json"));
    assertThat(access.permissions().orElseThrow())
        .containsExactly(
            new Policy(
                List.of("token:ci"),
                Optional.of(List.of("", "team-a/*")),
                Set.of(Permission.READ, Permission.EXECUTE)));
  }

  @Test
  void offLoopbackWithoutAuthenticationRefusesToStartAndSaysHow() {
    ConfigException e = errorOf(withServerField("listen", "\"0.0.0.0:50052\""));

    assertThat(e.path()).isEqualTo("servers[0].listen");
    assertThat(e.getMessage())
        .contains("listens on 0.0.0.0:50052")
        .contains("\"authentication\"")
        .contains("\"tls\"")
        .contains("\"insecureAllowUnauthenticated\": true")
        .contains("docs/security.md");
  }

  @Test
  void offLoopbackIsAllowedWithTokensOrTheInsecureOptOut() {
    assertThat(
            server("\"insecureAllowUnauthenticated\": true", "0.0.0.0:0")
                .access()
                .insecureAllowUnauthenticated())
        .isTrue();
    assertThat(
            server(
                    "\"authentication\": {\"tokens\": [{\"name\": \"ci\", \"sha256\": \""
                        + HASH
                        + "\"}]}",
                    "[::]:0")
                .host())
        .isEqualTo("::");
    // An authentication block with neither tokens nor JWTs authenticates no one.
    assertThat(
            errorOf(
                    withServerField("authentication", "{\"trustLoopback\": true}")
                        .replace("127.0.0.1:0", "10.1.2.3:0"))
                .path())
        .isEqualTo("servers[0].listen");
  }

  @Test
  void loopbackAddressesByTheirText() {
    assertThat(AccessConfigBinder.isLoopback("127.0.0.1")).isTrue();
    assertThat(AccessConfigBinder.isLoopback("127.1.2.3")).isTrue();
    assertThat(AccessConfigBinder.isLoopback("::1")).isTrue();
    assertThat(AccessConfigBinder.isLoopback("localhost")).isTrue();
    assertThat(AccessConfigBinder.isLoopback("0.0.0.0")).isFalse();
    assertThat(AccessConfigBinder.isLoopback("::")).isFalse();
    assertThat(AccessConfigBinder.isLoopback("build.example.com")).isFalse();
  }

  @Test
  void badHexNamesTheFieldAndNeverEchoesTheValue() {
    ConfigException e =
        errorOf(
            withServerField(
                "authentication",
                "{\"tokens\": [{\"name\": \"ci\", \"sha256\": \"my-secret-token\"}]}"));

    assertThat(e.path()).isEqualTo("servers[0].authentication.tokens[0].sha256");
    assertThat(e.getMessage())
        .contains("64 hex digits, found 15 characters that are not all hex digits")
        .doesNotContain("my-secret-token");
  }

  @Test
  void tokenNeedsExactlyOneOfHashAndFile() {
    ConfigException neither =
        errorOf(withServerField("authentication", "{\"tokens\": [{\"name\": \"ci\"}]}"));
    ConfigException both =
        errorOf(
            withServerField(
                "authentication",
                "{\"tokens\": [{\"name\": \"ci\", \"file\": \"a\", \"sha256\": \""
                    + HASH
                    + "\"}]}"));

    assertThat(neither.path()).isEqualTo("servers[0].authentication.tokens[0]");
    assertThat(neither.getMessage()).contains("needs \"sha256\"").contains("or \"file\"");
    assertThat(both.getMessage()).contains("either \"sha256\" or \"file\", not both");
  }

  @Test
  void duplicateTokenNames() {
    ConfigException e =
        errorOf(
            withServerField(
                "authentication",
                "{\"tokens\": [{\"name\": \"ci\", \"file\": \"a\"}, {\"name\": \"ci\", \"file\":"
                    + " \"b\"}]}"));

    assertThat(e.path()).isEqualTo("servers[0].authentication.tokens[1].name");
    assertThat(e.getMessage())
        .contains("'ci' is already used by servers[0].authentication.tokens[0]");
  }

  @Test
  void unknownPermissionListsTheValidOnes() {
    ConfigException e =
        errorOf(
            withServerField(
                "permissions",
                "[{\"identities\": [\"token:ci\"], \"grant\": [\"read\", \"writeAC\"]}]"));

    assertThat(e.path()).isEqualTo("servers[0].permissions[0].grant[1]");
    assertThat(e.getMessage())
        .endsWith(
            "unknown permission 'writeAC'; known permissions: read, write, writeActionCache,"
                + " execute, worker, admin, metrics");
  }

  @Test
  void jwtWithoutKeyOrWithTwo() {
    ConfigException none =
        errorOf(
            withServerField(
                "authentication", "{\"jwt\": {\"issuer\": \"i\", \"audience\": \"hearth\"}}"));
    ConfigException two =
        errorOf(
            withServerField(
                "authentication",
                "{\"jwt\": {\"issuer\": \"i\", \"audience\": \"a\", \"jwks\": \"j\", \"publicKey\":"
                    + " \"k\"}}"));

    assertThat(none.path()).isEqualTo("servers[0].authentication.jwt");
    assertThat(none.getMessage()).contains("needs the key its tokens are signed with");
    assertThat(two.getMessage()).contains("either \"jwks\" or \"publicKey\", not both");
  }

  @Test
  void jwtNeedsAnAudience() {
    ConfigException e =
        errorOf(
            withServerField(
                "authentication", "{\"jwt\": {\"issuer\": \"i\", \"publicKey\": \"k.pem\"}}"));

    assertThat(e.path()).isEqualTo("servers[0].authentication.jwt.audience");
    assertThat(e.getMessage()).contains("missing required field 'audience'");
  }

  @Test
  void misspeltFieldIsUnknown() {
    ConfigException e = errorOf(withServerField("authentication", "{\"trustLoopbak\": true}"));

    assertThat(e.getMessage()).contains("did you mean 'trustLoopback'?");
  }
}
