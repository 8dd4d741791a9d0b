package build.hearth.core.security;

import static build.hearth.core.security.SecurityTestSupport.access;
import static build.hearth.core.security.SecurityTestSupport.configError;
import static build.hearth.core.security.SecurityTestSupport.json;
import static org.assertj.core.api.Assertions.assertThat;

import build.hearth.api.ConfigException;
import build.hearth.spi.security.Authentication;
import build.hearth.spi.security.Credentials;
import build.hearth.spi.security.Identity;
import build.hearth.spi.security.RefusalReason;
import build.hearth.testing.FakeClock;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenAuthenticationTest {
  private static final String CI_TOKEN = "ci-secret-0123456789";
  private static final InetSocketAddress REMOTE = new InetSocketAddress("192.0.2.7", 4000);
  private static final InetSocketAddress LOOPBACK = new InetSocketAddress("127.0.0.1", 4000);

  @TempDir Path dir;
  private final FakeClock clock = new FakeClock();

  private static String hex(String token) {
    return HexFormat.of().formatHex(BearerTokens.sha256(token));
  }

  private ConfiguredAccessControl control(String fields) {
    return ConfiguredAccessControl.newBuilder("test", access(fields)).clock(clock).build();
  }

  private static Credentials bearer(String token, InetSocketAddress from) {
    return Credentials.newBuilder().remoteAddress(from).authorization("Bearer " + token).build();
  }

  @Test
  void knownTokenByHashIsItsNamedIdentity() {
    ConfiguredAccessControl control =
        control(
            "\"authentication\": {\"tokens\": [{\"name\": \"ci\", \"sha256\": \""
                + hex(CI_TOKEN)
                + "\"}]}");

    Authentication authentication = control.authenticate(bearer(CI_TOKEN, REMOTE));

    assertThat(authentication.identity().orElseThrow().name()).isEqualTo("token:ci");
    assertThat(authentication.identity().orElseThrow().kind()).isEqualTo(Identity.Kind.TOKEN);
  }

  @Test
  void wrongTokenIsRefusedWithoutEchoingIt() {
    ConfiguredAccessControl control =
        control(
            "\"authentication\": {\"tokens\": [{\"name\": \"ci\", \"sha256\": \""
                + hex(CI_TOKEN)
                + "\"}]}");

    Authentication authentication = control.authenticate(bearer("ci-secret-0123456788", REMOTE));

    assertThat(authentication.identity()).isEmpty();
    assertThat(authentication.reason()).contains(RefusalReason.UNKNOWN_TOKEN);
    assertThat(authentication.message())
        .contains("not one this server knows")
        .doesNotContain("ci-secret");
  }

  @Test
  void malformedAuthorizationHeaderIsRefused() {
    ConfiguredAccessControl control =
        control(
            "\"authentication\": {\"tokens\": [{\"name\": \"ci\", \"sha256\": \""
                + hex(CI_TOKEN)
                + "\"}]}");

    Authentication authentication =
        control.authenticate(
            Credentials.newBuilder().remoteAddress(REMOTE).authorization("Basic abc").build());

    assertThat(authentication.reason()).contains(RefusalReason.MALFORMED_CREDENTIALS);
    assertThat(authentication.message()).contains("\"Bearer <token>\"");
  }

  @Test
  void tokenFileIsReadAtStartAndAgainWhenItChanges() throws Exception {
    Path file = dir.resolve("dev.token");
    Files.writeString(file, "first-token\nignored second line\n");
    ConfiguredAccessControl control =
        control(
            "\"authentication\": {\"tokens\": [{\"name\": \"dev\", \"file\": "
                + json(file)
                + "}]}");
    assertThat(control.authenticate(bearer("first-token", REMOTE)).identity())
        .map(Identity::name)
        .contains("token:dev");

    Files.writeString(file, "second-token-longer\n");
    Files.setLastModifiedTime(file, FileTime.fromMillis(System.currentTimeMillis() + 5000));
    clock.advance(BearerTokens.CHECK_EVERY.plus(Duration.ofSeconds(1)));

    assertThat(control.authenticate(bearer("second-token-longer", REMOTE)).identity())
        .map(Identity::name)
        .contains("token:dev");
    assertThat(control.authenticate(bearer("first-token", REMOTE)).reason())
        .contains(RefusalReason.UNKNOWN_TOKEN);
  }

  @Test
  void anEmptiedTokenFileKeepsThePreviousToken() throws Exception {
    Path file = dir.resolve("dev.token");
    Files.writeString(file, "first-token\n");
    ConfiguredAccessControl control =
        control(
            "\"authentication\": {\"tokens\": [{\"name\": \"dev\", \"file\": "
                + json(file)
                + "}]}");

    Files.writeString(file, "\n");
    Files.setLastModifiedTime(file, FileTime.fromMillis(System.currentTimeMillis() + 5000));
    clock.advance(Duration.ofMinutes(1));

    assertThat(control.authenticate(bearer("first-token", REMOTE)).identity()).isPresent();
  }

  @Test
  void missingTokenFileNamesTheField() {
    Path missing = dir.resolve("nope.token");
    ConfigException e =
        configError(
            () ->
                control(
                    "\"authentication\": {\"tokens\": [{\"name\": \"dev\", \"file\": "
                        + json(missing)
                        + "}]}"));

    assertThat(e.path()).isEqualTo("servers[0].authentication.tokens[0].file");
    assertThat(e.getMessage())
        .contains("cannot read the token file " + missing)
        .contains("no such file");
  }

  @Test
  void emptyTokenFileNamesTheField() throws Exception {
    Path empty = Files.writeString(dir.resolve("empty.token"), "\n");
    ConfigException e =
        configError(
            () ->
                control(
                    "\"authentication\": {\"tokens\": [{\"name\": \"dev\", \"file\": "
                        + json(empty)
                        + "}]}"));

    assertThat(e.getMessage()).contains("its first line is empty");
  }

  @Test
  void aDirectoryOrAHugeFileIsNoTokenFile() throws Exception {
    Path huge = dir.resolve("huge.token");
    Files.write(huge, new byte[(int) WatchedFile.MAX_BYTES + 1]);
    for (Path bad : List.of(dir, huge)) {
      ConfigException e =
          configError(
              () ->
                  control(
                      "\"authentication\": {\"tokens\": [{\"name\": \"dev\", \"file\": "
                          + json(bad)
                          + "}]}"));

      assertThat(e.path()).isEqualTo("servers[0].authentication.tokens[0].file");
      assertThat(e.getMessage())
          .contains(bad == dir ? "it is not a regular file" : "more than the 1 MiB");
    }
  }

  @Test
  void loopbackIsTrustedOnlyWithoutAnAuthenticationBlockOrWhenSaid() {
    Credentials fromLoopback = Credentials.newBuilder().remoteAddress(LOOPBACK).build();
    Credentials fromElsewhere = Credentials.newBuilder().remoteAddress(REMOTE).build();
    String tokens = "\"tokens\": [{\"name\": \"ci\", \"sha256\": \"" + hex(CI_TOKEN) + "\"}]";

    assertThat(control("").authenticate(fromLoopback).identity()).contains(Identity.loopback());
    assertThat(control("").authenticate(fromElsewhere).identity()).contains(Identity.anonymous());
    assertThat(
            control("\"authentication\": {" + tokens + "}").authenticate(fromLoopback).identity())
        .contains(Identity.anonymous());
    assertThat(
            control("\"authentication\": {" + tokens + ", \"trustLoopback\": true}")
                .authenticate(fromLoopback)
                .identity())
        .contains(Identity.loopback());
  }

  @Test
  void aServerWithoutBearerAuthenticationIgnoresTheHeader() {
    assertThat(control("").authenticate(bearer("whatever", LOOPBACK)).identity())
        .contains(Identity.loopback());
  }
}
