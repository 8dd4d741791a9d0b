package build.hearth.core.security;

import build.hearth.api.ConfigException;
import build.hearth.core.config.AccessConfig.Jwt;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.proc.BadJOSEException;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.proc.BadJWTException;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.InvalidKeySpecException;
import java.security.spec.X509EncodedKeySpec;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.Date;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks signed JWTs with nimbus-jose-jwt: the signature against the configured keys (a JWKS file
 * or one PEM public key; RSA and EC algorithms, never {@code none} or HMAC), then the issuer, the
 * audience, the expiry (required) and not-before, with a minute of clock skew. The key file is
 * re-read when it changes, so keys rotate without a restart. Thread-safe.
 */
final class JwtVerifier {
  private static final Logger log = LoggerFactory.getLogger(JwtVerifier.class);

  private static final Set<JWSAlgorithm> ALGORITHMS =
      Set.of(
          JWSAlgorithm.RS256,
          JWSAlgorithm.RS384,
          JWSAlgorithm.RS512,
          JWSAlgorithm.PS256,
          JWSAlgorithm.PS384,
          JWSAlgorithm.PS512,
          JWSAlgorithm.ES256,
          JWSAlgorithm.ES384,
          JWSAlgorithm.ES512);

  /** What a JWT is: the identity's claim value, or why it was refused. */
  sealed interface Result {}

  record Valid(String claim) implements Result {}

  record Invalid(boolean expired, String problem) implements Result {}

  private final Jwt config;
  private final WatchedFile<JWKSet> keys;
  private final Clock clock;

  /**
   * Reads the key file now.
   *
   * @throws ConfigException naming the jwt block if the key file is missing or holds no usable key
   */
  JwtVerifier(Jwt config, Clock clock) {
    this.config = config;
    this.clock = clock;
    boolean jwks = config.jwks().isPresent();
    java.nio.file.Path file = jwks ? config.jwks().get() : config.publicKey().orElseThrow();
    String field = config.fieldPath() + (jwks ? ".jwks" : ".publicKey");
    try {
      this.keys =
          new WatchedFile<>(
              file,
              text -> jwks ? parseJwks(text) : parsePem(text),
              clock,
              BearerTokens.CHECK_EVERY,
              e ->
                  log.warn(
                      "Keeping the previous JWT keys: {} cannot be used now: {}",
                      file.toAbsolutePath(),
                      e.getMessage()));
    } catch (NoSuchFileException e) {
      throw keyError(field, file, "no such file");
    } catch (AccessDeniedException e) {
      throw keyError(field, file, "permission denied");
    } catch (IOException e) {
      throw keyError(field, file, e.toString());
    } catch (IllegalArgumentException e) {
      throw keyError(field, file, e.getMessage());
    }
  }

  private ConfigException keyError(String field, java.nio.file.Path file, String reason) {
    return new ConfigException(
        field, config.line(), "cannot use the key file " + file.toAbsolutePath() + ": " + reason);
  }

  /** Whether {@code token} has the shape of a JWS (three dot-separated parts). */
  static boolean looksLikeJwt(String token) {
    int first = token.indexOf('.');
    return first > 0 && token.chars().filter(c -> c == '.').count() == 2;
  }

  Result verify(String token) {
    DefaultJWTProcessor<SecurityContext> processor = new DefaultJWTProcessor<>();
    processor.setJWSKeySelector(
        new JWSVerificationKeySelector<>(
            ALGORITHMS, (selector, context) -> selector.select(keys.get())));
    processor.setJWTClaimsSetVerifier(claimsVerifier());
    try {
      JWTClaimsSet claims = processor.process(token, null);
      Object value = claims.getClaim(config.identityClaim());
      if (!(value instanceof String s) || s.isEmpty()) {
        return new Invalid(
            false, "its claim '" + config.identityClaim() + "' is not a non-empty string");
      }
      return new Valid(s);
    } catch (BadJWTException e) {
      String message = e.getMessage() == null ? "" : e.getMessage();
      boolean expired =
          message.toLowerCase(Locale.ROOT).contains("expired")
              || message.toLowerCase(Locale.ROOT).contains("before use time");
      return new Invalid(expired, describe(message));
    } catch (BadJOSEException e) {
      return new Invalid(false, describe(e.getMessage()));
    } catch (ParseException e) {
      return new Invalid(false, "it is not a well-formed JWT");
    } catch (JOSEException e) {
      return new Invalid(false, "its signature could not be checked: " + e.getMessage());
    }
  }

  private DefaultJWTClaimsVerifier<SecurityContext> claimsVerifier() {
    Set<String> required = new HashSet<>(List.of("exp", "iss", "aud", config.identityClaim()));
    DefaultJWTClaimsVerifier<SecurityContext> verifier =
        new DefaultJWTClaimsVerifier<>(
            Set.of(config.audience()),
            new JWTClaimsSet.Builder().issuer(config.issuer()).build(),
            required,
            Set.of()) {
          @Override
          protected Date currentTime() {
            return Date.from(clock.instant());
          }
        };
    verifier.setMaxClockSkew((int) Duration.ofMinutes(1).toSeconds());
    return verifier;
  }

  /** nimbus's messages, which never contain the token, worded for a user. */
  private String describe(String message) {
    if (message == null) {
      return "it was rejected";
    }
    String lower = message.toLowerCase(Locale.ROOT);
    if (lower.contains("missing required")) {
      return "it lacks a required claim (" + message.replaceAll(".*claims?:?\\s*", "") + ")";
    }
    if (lower.contains("audience") || lower.contains("aud claim")) {
      return "its audience is not \"" + config.audience() + "\"";
    }
    if (lower.contains("iss")) {
      return "its issuer is not \"" + config.issuer() + "\"";
    }
    if (lower.contains("expired")) {
      return "it has expired";
    }
    if (lower.contains("before use time")) {
      return "it is not valid yet (nbf)";
    }
    if (lower.contains("signature") || lower.contains("no matching key")) {
      return "its signature does not verify with the configured keys";
    }
    return "it was rejected: " + message;
  }

  static JWKSet parseJwks(String text) {
    try {
      JWKSet set = JWKSet.parse(text).toPublicJWKSet();
      if (set.getKeys().isEmpty()) {
        throw new IllegalArgumentException("the JWKS holds no public keys");
      }
      return set;
    } catch (ParseException e) {
      throw new IllegalArgumentException(
          "it is not a JWKS (a JSON object with \"keys\"): " + e.getMessage());
    }
  }

  /** A PEM {@code PUBLIC KEY} (X.509 SubjectPublicKeyInfo), RSA or EC. */
  static JWKSet parsePem(String text) {
    String begin = "-----BEGIN PUBLIC KEY-----";
    String end = "-----END PUBLIC KEY-----";
    int from = text.indexOf(begin);
    int to = text.indexOf(end);
    if (from < 0 || to < from) {
      throw new IllegalArgumentException(
          "expected a PEM public key (\"" + begin + "\"), such as `openssl pkey -pubout` writes");
    }
    byte[] der;
    try {
      der = Base64.getMimeDecoder().decode(text.substring(from + begin.length(), to));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("the PEM block is not valid base64");
    }
    PublicKey key = null;
    for (String algorithm : List.of("RSA", "EC")) {
      try {
        key = KeyFactory.getInstance(algorithm).generatePublic(new X509EncodedKeySpec(der));
        break;
      } catch (InvalidKeySpecException | java.security.NoSuchAlgorithmException e) {
        // try the next algorithm
      }
    }
    if (key instanceof RSAPublicKey rsa) {
      return new JWKSet(new RSAKey.Builder(rsa).build());
    }
    if (key instanceof ECPublicKey ec) {
      Curve curve = Curve.forECParameterSpec(ec.getParams());
      if (curve == null) {
        throw new IllegalArgumentException(
            "the EC key's curve is not one JWTs use (P-256, P-384, P-521)");
      }
      return new JWKSet(new ECKey.Builder(curve, ec).build());
    }
    throw new IllegalArgumentException("the PEM block is neither an RSA nor an EC public key");
  }
}
