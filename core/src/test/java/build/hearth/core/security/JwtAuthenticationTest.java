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
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JwtAuthenticationTest {
  private static final InetSocketAddress REMOTE = new InetSocketAddress("192.0.2.7", 4000);
  private static final String ISSUER = "https://issuer.example";

  @TempDir Path dir;
  private final FakeClock clock = new FakeClock();
  private KeyPair rsa;
  private ConfiguredAccessControl control;

  @BeforeEach
  void setUp() throws Exception {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
    generator.initialize(2048);
    rsa = generator.generateKeyPair();
    Path pem = dir.resolve("jwt.pem");
    Files.writeString(
        pem,
        "-----BEGIN PUBLIC KEY-----\n"
            + Base64.getMimeEncoder(64, "\n".getBytes())
                .encodeToString(rsa.getPublic().getEncoded())
            + "\n-----END PUBLIC KEY-----\n");
    control =
        ConfiguredAccessControl.newBuilder(
                "test",
                access(
                    "\"authentication\": {\"jwt\": {\"issuer\": \""
                        + ISSUER
                        + "\", \"audience\": \"hearth\", \"publicKey\": "
                        + json(pem)
                        + ", \"identityClaim\": \"email\"}}"))
            .clock(clock)
            .build();
  }

  private JWTClaimsSet.Builder claims() {
    Instant now = clock.instant();
    return new JWTClaimsSet.Builder()
        .issuer(ISSUER)
        .audience("hearth")
        .subject("1234")
        .claim("email", "alice@example.com")
        .issueTime(Date.from(now))
        .expirationTime(Date.from(now.plus(Duration.ofHours(1))));
  }

  private static String sign(JWSSigner signer, JWSAlgorithm algorithm, JWTClaimsSet claims)
      throws JOSEException {
    SignedJWT jwt = new SignedJWT(new JWSHeader(algorithm), claims);
    jwt.sign(signer);
    return jwt.serialize();
  }

  private String rs256(JWTClaimsSet claims) throws JOSEException {
    return sign(new RSASSASigner(rsa.getPrivate()), JWSAlgorithm.RS256, claims);
  }

  private Authentication authenticate(String token) {
    return control.authenticate(
        Credentials.newBuilder().remoteAddress(REMOTE).authorization("Bearer " + token).build());
  }

  @Test
  void validRs256JwtIsTheIdentityOfItsClaim() throws Exception {
    Identity identity = authenticate(rs256(claims().build())).identity().orElseThrow();

    assertThat(identity.name()).isEqualTo("jwt:alice@example.com");
    assertThat(identity.kind()).isEqualTo(Identity.Kind.JWT);
  }

  @Test
  void tamperedJwtIsRefused() throws Exception {
    String token = rs256(claims().build());
    String[] parts = token.split("\\.");
    String forged =
        Base64.getUrlEncoder()
            .withoutPadding()
            .encodeToString(
                claims().claim("email", "mallory@example.com").build().toString().getBytes());
    Authentication authentication = authenticate(parts[0] + "." + forged + "." + parts[2]);

    assertThat(authentication.reason()).contains(RefusalReason.INVALID_JWT);
    assertThat(authentication.message()).contains("signature does not verify");
  }

  @Test
  void jwtSignedByAnotherKeyIsRefused() throws Exception {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
    generator.initialize(2048);
    String token =
        sign(
            new RSASSASigner(generator.generateKeyPair().getPrivate()),
            JWSAlgorithm.RS256,
            claims().build());

    assertThat(authenticate(token).reason()).contains(RefusalReason.INVALID_JWT);
  }

  @Test
  void hmacJwtIsRefusedEvenWithThePublicKeyAsSecret() throws Exception {
    // The classic algorithm-confusion attack: HS256 keyed with the server's public key.
    byte[] secret = rsa.getPublic().getEncoded();
    String token = sign(new MACSigner(secret), JWSAlgorithm.HS256, claims().build());

    assertThat(authenticate(token).reason()).contains(RefusalReason.INVALID_JWT);
  }

  @Test
  void expiredJwtIsRefusedAsExpired() throws Exception {
    String token =
        rs256(claims().expirationTime(Date.from(clock.instant().plusSeconds(30))).build());
    clock.advance(Duration.ofMinutes(5));

    Authentication authentication = authenticate(token);

    assertThat(authentication.reason()).contains(RefusalReason.EXPIRED_JWT);
    assertThat(authentication.message()).contains("it has expired");
  }

  @Test
  void jwtNotValidYetIsRefused() throws Exception {
    String token =
        rs256(claims().notBeforeTime(Date.from(clock.instant().plus(Duration.ofHours(1)))).build());

    assertThat(authenticate(token).reason()).contains(RefusalReason.EXPIRED_JWT);
  }

  @Test
  void jwtWithoutExpiryIsRefused() throws Exception {
    String token = rs256(claims().expirationTime(null).build());

    assertThat(authenticate(token).reason()).contains(RefusalReason.INVALID_JWT);
  }

  @Test
  void wrongAudienceIsRefusedAndNamed() throws Exception {
    Authentication authentication = authenticate(rs256(claims().audience("other-service").build()));

    assertThat(authentication.reason()).contains(RefusalReason.INVALID_JWT);
    assertThat(authentication.message()).contains("its audience is not \"hearth\"");
  }

  @Test
  void wrongIssuerIsRefusedAndNamed() throws Exception {
    Authentication authentication =
        authenticate(rs256(claims().issuer("https://evil.example").build()));

    assertThat(authentication.reason()).contains(RefusalReason.INVALID_JWT);
    assertThat(authentication.message()).contains("its issuer is not \"" + ISSUER + "\"");
  }

  @Test
  void es256JwtVerifiesAgainstAJwksFile() throws Exception {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(new ECGenParameterSpec("secp256r1"));
    KeyPair ec = generator.generateKeyPair();
    ECKey jwk = new ECKey.Builder(Curve.P_256, (ECPublicKey) ec.getPublic()).keyID("k1").build();
    Path jwks = Files.writeString(dir.resolve("jwks.json"), new JWKSet(jwk).toString());
    ConfiguredAccessControl es =
        ConfiguredAccessControl.newBuilder(
                "test",
                access(
                    "\"authentication\": {\"jwt\": {\"issuer\": \""
                        + ISSUER
                        + "\", \"audience\": \"hearth\", \"jwks\": "
                        + json(jwks)
                        + "}}"))
            .clock(clock)
            .build();
    SignedJWT jwt =
        new SignedJWT(
            new JWSHeader.Builder(JWSAlgorithm.ES256).keyID("k1").build(), claims().build());
    jwt.sign(new ECDSASigner((ECPrivateKey) ec.getPrivate()));

    Authentication authentication =
        es.authenticate(
            Credentials.newBuilder().remoteAddress(REMOTE).bearerToken(jwt.serialize()).build());

    assertThat(authentication.identity().map(Identity::name)).contains("jwt:1234");
  }

  @Test
  void missingKeyFileNamesTheField() {
    Path missing = dir.resolve("missing.pem");
    ConfigException e =
        configError(
            () ->
                ConfiguredAccessControl.newBuilder(
                        "test",
                        access(
                            "\"authentication\": {\"jwt\": {\"issuer\": \"i\", \"audience\":"
                                + " \"a\", \"publicKey\": "
                                + json(missing)
                                + "}}"))
                    .build());

    assertThat(e.path()).isEqualTo("servers[0].authentication.jwt.publicKey");
    assertThat(e.getMessage()).contains(missing.toString()).contains("no such file");
  }

  @Test
  void keyFileThatIsNotAKeySaysWhatItShouldBe() throws Exception {
    Path notPem = Files.writeString(dir.resolve("key.pem"), "hello\n");
    ConfigException e =
        configError(
            () ->
                ConfiguredAccessControl.newBuilder(
                        "test",
                        access(
                            "\"authentication\": {\"jwt\": {\"issuer\": \"i\", \"audience\":"
                                + " \"a\", \"publicKey\": "
                                + json(notPem)
                                + "}}"))
                    .build());

    assertThat(e.getMessage()).contains("expected a PEM public key");
  }
}
