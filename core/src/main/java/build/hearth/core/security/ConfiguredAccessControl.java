package build.hearth.core.security;

import build.hearth.core.config.AccessConfig;
import build.hearth.spi.security.AccessControl;
import build.hearth.spi.security.Authentication;
import build.hearth.spi.security.Credentials;
import build.hearth.spi.security.Decision;
import build.hearth.spi.security.Identity;
import build.hearth.spi.security.Permission;
import build.hearth.spi.security.Refusal;
import build.hearth.spi.security.RefusalReason;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The access control of one configured server ({@link AccessConfig}): bearer tokens, JWTs, TLS
 * client certificates and trusted loopback make identities; the {@code permissions} policies (or,
 * without them, "every authenticated identity may do everything") decide. Refusals are logged
 * (rate-limited) and handed to the refusal counter.
 *
 * <p>What a caller presents decides its identity, first match wins: a malformed {@code
 * authorization} header is refused; a bearer token is a known token or a valid JWT, or refused; a
 * verified client certificate is {@code certificate:<subject>}; no credentials on a trusted
 * loopback address is {@code loopback}; otherwise {@code anonymous}. A server that accepts no
 * bearer credentials ignores an {@code authorization} header.
 *
 * <p>Thread-safe. Built with {@link #newBuilder}; token and key files are read by {@link
 * Builder#build()}.
 *
 * <pre>{@code
 * AccessControl accessControl =
 *     ConfiguredAccessControl.newBuilder("main", serverConfig.access())
 *         .refusalCounter(metrics.refusalCounter("main"))
 *         .build();
 * }</pre>
 */
public final class ConfiguredAccessControl implements AccessControl {
  private static final String WHAT_TO_SEND =
      // Words for gRPC and HTTP callers alike: a gRPC metadata entry is an HTTP/2 header.
      "send a bearer token as the header \"authorization: Bearer <token>\" (with Bazel:"
          + " --remote_header=\"authorization=Bearer <token>\", quoted, since it holds a space) or a TLS"
          + " client certificate";

  private final AccessConfig config;
  private final BearerTokens tokens;
  private final Optional<JwtVerifier> jwt;
  private final Optional<Policies> policies;
  private final RefusalLog refusalLog;
  private final Consumer<Refusal> refusalCounter;

  private ConfiguredAccessControl(Builder builder) {
    this.config = builder.config;
    AccessConfig.Authentication authentication = config.authentication().orElse(null);
    this.tokens =
        new BearerTokens(
            authentication == null ? java.util.List.of() : authentication.tokens(), builder.clock);
    this.jwt =
        authentication == null
            ? Optional.empty()
            : authentication.jwt().map(j -> new JwtVerifier(j, builder.clock));
    this.policies = config.permissions().map(Policies::new);
    this.refusalLog = new RefusalLog(builder.serverName, builder.clock, builder.logInterval);
    this.refusalCounter = builder.refusalCounter;
  }

  @Override
  public Authentication authenticate(Credentials credentials) {
    boolean acceptsBearer = !tokens.isEmpty() || jwt.isPresent();
    if (acceptsBearer && credentials.malformedAuthorization()) {
      return Authentication.failure(
          RefusalReason.MALFORMED_CREDENTIALS,
          "the \"authorization\" header must be \"Bearer <token>\"");
    }
    Optional<String> bearer = credentials.bearerToken();
    if (acceptsBearer && bearer.isPresent()) {
      return bearer(bearer.get());
    }
    if (!credentials.peerCertificates().isEmpty()) {
      return Authentication.success(
          CertificateIdentities.of(credentials.peerCertificates().get(0)));
    }
    if (config.trustLoopback() && credentials.fromLoopback()) {
      return Authentication.success(Identity.loopback());
    }
    return Authentication.success(Identity.anonymous());
  }

  private Authentication bearer(String token) {
    Optional<String> name = tokens.match(token);
    if (name.isPresent()) {
      return Authentication.success(
          Identity.of(Identity.Kind.TOKEN, "token:" + name.get(), java.util.List.of()));
    }
    if (jwt.isPresent() && JwtVerifier.looksLikeJwt(token)) {
      JwtVerifier.Result result = jwt.get().verify(token);
      if (result instanceof JwtVerifier.Valid valid) {
        return Authentication.success(
            Identity.of(Identity.Kind.JWT, "jwt:" + valid.claim(), java.util.List.of()));
      }
      JwtVerifier.Invalid invalid = (JwtVerifier.Invalid) result;
      return Authentication.failure(
          invalid.expired() ? RefusalReason.EXPIRED_JWT : RefusalReason.INVALID_JWT,
          "the bearer token is a JWT this server does not accept: " + invalid.problem());
    }
    return Authentication.failure(
        RefusalReason.UNKNOWN_TOKEN,
        "the bearer token is not one this server knows (mistyped, revoked or for another server)");
  }

  @Override
  public Decision authorize(Identity identity, Permission permission, String instance) {
    Objects.requireNonNull(identity, "identity");
    Objects.requireNonNull(permission, "permission");
    Objects.requireNonNull(instance, "instance");
    boolean allowed =
        policies.isPresent()
            ? policies.get().grants(identity, permission, instance)
            : identity.hasCredentials() || config.insecureAllowUnauthenticated();
    if (allowed) {
      return Decision.allow();
    }
    String what = "\"" + permission.configName() + "\"" + on(permission, instance);
    if (!identity.hasCredentials()) {
      return Decision.refuse(
          RefusalReason.NO_CREDENTIALS,
          "no credentials, and callers without any lack " + what + "; " + WHAT_TO_SEND);
    }
    return Decision.refuse(
        RefusalReason.PERMISSION_DENIED,
        identity.name()
            + " lacks "
            + what
            + "; a policy in the server's \"permissions\" must grant \""
            + permission.configName()
            + "\" to it");
  }

  private static String on(Permission permission, String instance) {
    return permission.serverWide()
        ? " on this server"
        : " on instance "
            + (instance.isEmpty() ? "\"\" (the default instance)" : "'" + instance + "'");
  }

  @Override
  public void refused(Refusal refusal) {
    refusalLog.record(refusal);
    refusalCounter.accept(refusal);
  }

  @Override
  public String toString() {
    return "ConfiguredAccessControl{" + config + "}";
  }

  /**
   * Starts a builder.
   *
   * @param serverName the server's name, for log lines
   * @param config the server's access configuration
   * @return a builder, used by one thread
   */
  public static Builder newBuilder(String serverName, AccessConfig config) {
    return new Builder(serverName, config);
  }

  /** Builds a {@link ConfiguredAccessControl}. Not thread-safe. */
  public static final class Builder {
    private final String serverName;
    private final AccessConfig config;
    private Clock clock = Clock.systemUTC();
    private Duration logInterval = RefusalLog.DEFAULT_INTERVAL;
    private Consumer<Refusal> refusalCounter = refusal -> {};

    private Builder(String serverName, AccessConfig config) {
      this.serverName = Objects.requireNonNull(serverName, "serverName");
      this.config = Objects.requireNonNull(config, "config");
    }

    /**
     * The clock JWT expiry, file re-reads and log rate limits use; the system clock by default.
     *
     * @param clock the clock
     * @return this builder
     */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * At most one log line per reason, peer, identity and permission per {@code interval}; 30
     * seconds by default.
     *
     * @param interval the shortest time between two log lines of the same kind; zero logs every
     *     refusal
     * @return this builder
     * @throws IllegalArgumentException if {@code interval} is negative
     */
    public Builder logInterval(Duration interval) {
      if (interval.isNegative()) {
        throw new IllegalArgumentException("interval must not be negative");
      }
      this.logInterval = interval;
      return this;
    }

    /**
     * Told of every refusal, to count it; does nothing by default.
     *
     * @param counter what is told of every refusal
     * @return this builder
     */
    public Builder refusalCounter(Consumer<Refusal> counter) {
      this.refusalCounter = Objects.requireNonNull(counter, "counter");
      return this;
    }

    /**
     * Reads the token and key files and builds.
     *
     * @return the access control
     * @throws build.hearth.api.ConfigException naming the field of a file that is missing,
     *     unreadable or holds no usable token or key
     */
    public ConfiguredAccessControl build() {
      return new ConfiguredAccessControl(this);
    }
  }
}
