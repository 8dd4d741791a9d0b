package build.hearth.core.config;

import build.hearth.spi.security.Permission;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Who may call a server and what they may do: the server object's {@code authentication}, {@code
 * permissions} and {@code insecureAllowUnauthenticated} fields, as {@code
 * build.hearth.core.security} enforces them.
 *
 * <p>Built only by {@link HearthConfig}'s readers, which have checked every field's shape (hex
 * digests, permission words, one key for JWTs). Files (token files, JWT keys) are read when the
 * server starts, not here. Immutable and thread-safe.
 */
public final class AccessConfig {
  /** What a server without any of the three fields gets: no authentication, no policies. */
  static final AccessConfig NONE = new AccessConfig(null, null, false);

  private final Authentication authentication;
  private final List<Policy> permissions;
  private final boolean insecureAllowUnauthenticated;

  AccessConfig(
      Authentication authentication,
      List<Policy> permissions,
      boolean insecureAllowUnauthenticated) {
    this.authentication = authentication;
    this.permissions = permissions == null ? null : List.copyOf(permissions);
    this.insecureAllowUnauthenticated = insecureAllowUnauthenticated;
  }

  /** {@return the {@code authentication} block, or empty when the server has none} */
  public Optional<Authentication> authentication() {
    return Optional.ofNullable(authentication);
  }

  /**
   * {@return the {@code permissions} policies, in the file's order; empty when the field is absent,
   * in which case every authenticated identity and trusted loopback caller holds every permission}
   */
  public Optional<List<Policy>> permissions() {
    return Optional.ofNullable(permissions);
  }

  /**
   * {@return whether callers without credentials are let in: the server may listen off loopback
   * without authentication, and without {@code permissions} the anonymous caller holds every
   * permission}
   */
  public boolean insecureAllowUnauthenticated() {
    return insecureAllowUnauthenticated;
  }

  /**
   * {@return whether a loopback caller without credentials is the identity {@code loopback}: {@code
   * trustLoopback}, which defaults to true without an {@code authentication} block and to false
   * with one}
   */
  public boolean trustLoopback() {
    return authentication == null || authentication.trustLoopback();
  }

  /** {@return whether bearer credentials (tokens or JWTs) can authenticate a caller} */
  public boolean hasBearerAuthentication() {
    return authentication != null
        && (!authentication.tokens().isEmpty() || authentication.jwt().isPresent());
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof AccessConfig that
        && Objects.equals(authentication, that.authentication)
        && Objects.equals(permissions, that.permissions)
        && insecureAllowUnauthenticated == that.insecureAllowUnauthenticated;
  }

  @Override
  public int hashCode() {
    return Objects.hash(authentication, permissions, insecureAllowUnauthenticated);
  }

  @Override
  public String toString() {
    return "AccessConfig{authentication="
        + authentication
        + ", permissions="
        + permissions
        + ", insecureAllowUnauthenticated="
        + insecureAllowUnauthenticated
        + "}";
  }

  /**
   * The {@code authentication} block.
   *
   * @param tokens the bearer tokens the server knows, by name
   * @param jwt how signed JWTs are checked, if accepted
   * @param trustLoopback whether loopback callers without credentials are {@code loopback}
   */
  public record Authentication(List<Token> tokens, Optional<Jwt> jwt, boolean trustLoopback) {
    /**
     * Copies the tokens.
     *
     * @param tokens the bearer tokens the server knows, by name
     * @param jwt how signed JWTs are checked, if accepted
     * @param trustLoopback whether loopback callers without credentials are {@code loopback}
     */
    public Authentication {
      tokens = List.copyOf(tokens);
      Objects.requireNonNull(jwt, "jwt");
    }
  }

  /**
   * One bearer token: its name (the identity {@code token:<name>}) and either the SHA-256 of the
   * token or the file holding it (its first line).
   */
  public static final class Token {
    private final String name;
    private final byte[] sha256;
    private final Path file;
    private final String fieldPath;
    private final int line;

    Token(String name, byte[] sha256, Path file, String fieldPath, int line) {
      this.name = Objects.requireNonNull(name, "name");
      this.sha256 = sha256 == null ? null : sha256.clone();
      this.file = file;
      this.fieldPath = Objects.requireNonNull(fieldPath, "fieldPath");
      this.line = line;
      if ((sha256 == null) == (file == null)) {
        throw new IllegalArgumentException("a token has a hash or a file");
      }
    }

    /** {@return the token's name; the identity is {@code token:<name>}} */
    public String name() {
      return name;
    }

    /** {@return the SHA-256 of the token (32 bytes, a copy), or empty if it is read from a file} */
    public Optional<byte[]> sha256() {
      return Optional.ofNullable(sha256).map(byte[]::clone);
    }

    /** {@return the file whose first line is the token, or empty if it is given by its hash} */
    public Optional<Path> file() {
      return Optional.ofNullable(file);
    }

    /**
     * {@return the path of the token's {@code file} field (or of the token), such as {@code
     * servers[0].authentication.tokens[1].file}, for errors found when the file is read}
     */
    public String fieldPath() {
      return fieldPath;
    }

    /** {@return the line of {@link #fieldPath()} in the configuration file} */
    public int line() {
      return line;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Token that
          && name.equals(that.name)
          && Arrays.equals(sha256, that.sha256)
          && Objects.equals(file, that.file);
    }

    @Override
    public int hashCode() {
      return Objects.hash(name, Arrays.hashCode(sha256), file);
    }

    @Override
    public String toString() {
      // The hash is not secret, but shortened it is still enough to tell tokens apart in a dump.
      return "Token{"
          + name
          + (sha256 != null
              ? ", sha256=" + HexFormat.of().formatHex(sha256, 0, 4) + "..."
              : ", file=" + file)
          + "}";
    }
  }

  /**
   * How signed JWTs are accepted.
   *
   * @param issuer the required {@code iss} claim
   * @param audience the value the {@code aud} claim must contain
   * @param jwks a JWKS file with the signing keys, or empty when {@code publicKey} is given
   * @param publicKey a PEM public key file, or empty when {@code jwks} is given
   * @param identityClaim the claim whose value names the caller ({@code jwt:<value>}); {@code sub}
   *     unless set
   * @param fieldPath the block's field path, such as {@code servers[0].authentication.jwt}, for
   *     errors found when the keys are read
   * @param line the block's line in the configuration file
   */
  public record Jwt(
      String issuer,
      String audience,
      Optional<Path> jwks,
      Optional<Path> publicKey,
      String identityClaim,
      String fieldPath,
      int line) {
    /**
     * Checks that exactly one key source is given.
     *
     * @param issuer the required {@code iss} claim
     * @param audience the value the {@code aud} claim must contain
     * @param jwks a JWKS file with the signing keys, or empty when {@code publicKey} is given
     * @param publicKey a PEM public key file, or empty when {@code jwks} is given
     * @param identityClaim the claim whose value names the caller ({@code jwt:<value>}); {@code
     *     sub} unless set
     * @param fieldPath the block's field path, such as {@code servers[0].authentication.jwt}, for
     *     errors found when the keys are read
     * @param line the block's line in the configuration file
     * @throws IllegalArgumentException if both or neither of {@code jwks} and {@code publicKey} are
     *     given
     */
    public Jwt {
      Objects.requireNonNull(issuer, "issuer");
      Objects.requireNonNull(audience, "audience");
      Objects.requireNonNull(identityClaim, "identityClaim");
      if (jwks.isPresent() == publicKey.isPresent()) {
        throw new IllegalArgumentException("a JWT block has exactly one of jwks and publicKey");
      }
    }
  }

  /**
   * One policy: the identities it applies to, the instances it covers and what it grants.
   *
   * @param identities glob patterns ({@code *} matches any run of characters) over identity names
   * @param instances glob patterns over instance names, or empty for every instance
   * @param grant the permissions granted
   */
  public record Policy(
      List<String> identities, Optional<List<String>> instances, Set<Permission> grant) {
    /**
     * Copies the lists.
     *
     * @param identities glob patterns ({@code *} matches any run of characters) over identity names
     * @param instances glob patterns over instance names, or empty for every instance
     * @param grant the permissions granted
     */
    public Policy {
      identities = List.copyOf(identities);
      instances = instances.map(List::copyOf);
      grant = Set.copyOf(grant);
    }
  }
}
