package build.hearth.core.security;

import static build.hearth.core.security.SecurityTestSupport.access;
import static org.assertj.core.api.Assertions.assertThat;

import build.hearth.spi.security.Credentials;
import build.hearth.spi.security.Decision;
import build.hearth.spi.security.Identity;
import build.hearth.spi.security.Permission;
import build.hearth.spi.security.Refusal;
import build.hearth.spi.security.RefusalReason;
import build.hearth.testing.FakeClock;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PolicyTest {
  private static final Identity CI = Identity.of(Identity.Kind.TOKEN, "token:ci", List.of());
  private static final Identity DEV = Identity.of(Identity.Kind.TOKEN, "token:dev", List.of());

  @TempDir Path dir;

  private static ConfiguredAccessControl control(String fields) {
    return ConfiguredAccessControl.newBuilder("test", access(fields)).build();
  }

  @Test
  void withoutPoliciesAuthenticatedIdentitiesMayDoEverythingAndAnonymousNothing() {
    ConfiguredAccessControl control = control("");

    assertThat(control.authorize(CI, Permission.EXECUTE, "any").allowed()).isTrue();
    assertThat(control.authorize(Identity.loopback(), Permission.ADMIN, "").allowed()).isTrue();
    Decision anonymous = control.authorize(Identity.anonymous(), Permission.READ, "");
    assertThat(anonymous.reason()).contains(RefusalReason.NO_CREDENTIALS);
    assertThat(anonymous.message())
        .contains("lack \"read\" on instance \"\"")
        .contains("--remote_header=\"authorization=Bearer <token>\"")
        .contains("client certificate");
  }

  @Test
  void insecureAllowUnauthenticatedLetsAnonymousDoEverything() {
    ConfiguredAccessControl control = control("\"insecureAllowUnauthenticated\": true");

    assertThat(control.authorize(Identity.anonymous(), Permission.WRITE, "").allowed()).isTrue();
  }

  @Test
  void tokenForAnotherInstanceIsDeniedNamingPermissionInstanceAndIdentity() {
    ConfiguredAccessControl control =
        control(
            """
            "permissions": [
              { "identities": ["token:ci"], "instances": ["team-a/*"], "grant": ["read", "execute"] },
              { "identities": ["token:*"], "instances": [""], "grant": ["read"] }
            ]
            """);

    assertThat(control.authorize(CI, Permission.EXECUTE, "team-a/linux").allowed()).isTrue();
    assertThat(control.authorize(DEV, Permission.READ, "").allowed()).isTrue();
    Decision denied = control.authorize(CI, Permission.EXECUTE, "team-b");
    assertThat(denied.reason()).contains(RefusalReason.PERMISSION_DENIED);
    assertThat(denied.message())
        .isEqualTo(
            "token:ci lacks \"execute\" on instance 'team-b'; a policy in the server's"
                + " \"permissions\" must grant \"execute\" to it");
    assertThat(control.authorize(DEV, Permission.READ, "team-a/linux").allowed()).isFalse();
  }

  @Test
  void serverWidePermissionsIgnoreInstancePatterns() {
    ConfiguredAccessControl control =
        control(
            "\"permissions\": [{\"identities\": [\"token:ci\"], \"instances\": [\"x\"], \"grant\":"
                + " [\"admin\"]}]");

    assertThat(control.authorize(CI, Permission.ADMIN, "").allowed()).isTrue();
    assertThat(control.authorize(DEV, Permission.ADMIN, "").message())
        .isEqualTo(
            "token:dev lacks \"admin\" on this server; a policy in the server's \"permissions\""
                + " must grant \"admin\" to it");
  }

  @Test
  void anonymousMayScrapeMetricsWhenGrantedButIsToldToAuthenticateForTheRest() {
    ConfiguredAccessControl control =
        control("\"permissions\": [{\"identities\": [\"anonymous\"], \"grant\": [\"metrics\"]}]");

    assertThat(control.authorize(Identity.anonymous(), Permission.METRICS, "").allowed()).isTrue();
    assertThat(control.authorize(Identity.anonymous(), Permission.ADMIN, "").reason())
        .contains(RefusalReason.NO_CREDENTIALS);
  }

  @Test
  void certificateIdentityIsItsSubjectAndAnswersToItsAlternativeNames() throws Exception {
    X509Certificate certificate =
        SecurityTestSupport.certificate(
            dir, "CN=worker-7, O=Example Corp", "dns:worker-7.build.example,ip:10.0.0.5");
    ConfiguredAccessControl control =
        control(
            """
            "permissions": [
              { "identities": ["certificate:CN=worker-*"], "grant": ["worker"] },
              { "identities": ["san:*.build.example"], "grant": ["read"] },
              { "identities": ["san:10.0.0.5"], "grant": ["write"] }
            ]
            """);

    Identity identity =
        control
            .authenticate(Credentials.newBuilder().peerCertificates(List.of(certificate)).build())
            .identity()
            .orElseThrow();

    assertThat(identity.name()).isEqualTo("certificate:CN=worker-7,O=Example Corp");
    assertThat(identity.alternativeNames())
        .containsExactlyInAnyOrder("san:worker-7.build.example", "san:10.0.0.5");
    assertThat(control.authorize(identity, Permission.WORKER, "").allowed()).isTrue();
    assertThat(control.authorize(identity, Permission.READ, "").allowed()).isTrue();
    assertThat(control.authorize(identity, Permission.WRITE, "").allowed()).isTrue();
    assertThat(control.authorize(identity, Permission.EXECUTE, "").message())
        .startsWith("certificate:CN=worker-7,O=Example Corp lacks \"execute\"");
  }

  @Test
  void globsMatchWholeNamesOnly() {
    assertThat(Glob.of("token:ci").matches("token:ci2")).isFalse();
    assertThat(Glob.of("team-a/*").matches("team-a/x/y")).isTrue();
    assertThat(Glob.of("a.b").matches("axb")).isFalse();
    assertThat(Glob.of("*").matches("")).isTrue();
    assertThat(Glob.of("").matches("")).isTrue();
    assertThat(Glob.of("").matches("x")).isFalse();
  }

  @Test
  void refusalsAreCountedAlwaysAndLoggedOncePerReasonAndPeerPerInterval() {
    FakeClock clock = new FakeClock();
    List<Refusal> counted = new ArrayList<>();
    ConfiguredAccessControl control =
        ConfiguredAccessControl.newBuilder("test", access(""))
            .clock(clock)
            .refusalCounter(counted::add)
            .build();
    RefusalLog log = new RefusalLog("test", clock, Duration.ofSeconds(30));
    InetSocketAddress peer = new InetSocketAddress("192.0.2.7", 4000);
    InetSocketAddress samePeerOtherPort = new InetSocketAddress("192.0.2.7", 4001);
    Refusal refusal =
        new Refusal(RefusalReason.UNKNOWN_TOKEN, null, null, null, peer, "the bearer token is not");

    control.refused(refusal);
    control.refused(refusal);
    assertThat(counted).hasSize(2);

    assertThat(log.record(refusal)).isTrue();
    assertThat(
            log.record(
                new Refusal(
                    RefusalReason.UNKNOWN_TOKEN, null, null, null, samePeerOtherPort, "again")))
        .isFalse();
    assertThat(
            log.record(
                new Refusal(
                    RefusalReason.NO_CREDENTIALS, Permission.READ, "", "anonymous", peer, "x")))
        .isTrue();
    clock.advance(Duration.ofSeconds(31));
    assertThat(log.record(refusal)).isTrue();
  }
}
