package build.hearth.spi.security;

import java.util.Objects;

/**
 * Turns a caller's credentials into an identity and decides what that identity may do. A transport
 * calls {@link #authenticate} once per call, {@link #authorize} once the call's permission and
 * instance are known, and {@link #refused} for each call it refuses, so that the access control can
 * log and count refusals in one place.
 *
 * <p>Implementations are thread-safe, fast (called on transport threads for every call) and never
 * put a secret (a token, a key) in a message, a log line or an exception.
 *
 * <pre>{@code
 * Authentication authentication = accessControl.authenticate(credentials);
 * if (authentication.identity().isEmpty()) {
 *   // answer UNAUTHENTICATED with authentication.message()
 * }
 * Decision decision =
 *     accessControl.authorize(authentication.identity().get(), Permission.READ, "");
 * }</pre>
 */
public interface AccessControl {
  /**
   * Allows everything: every caller is {@link Identity#anonymous()} (or {@link Identity#loopback()}
   * from a loopback address) and holds every permission. What a transport gets when its host
   * configured nothing, so transports written before access control behave as they did.
   */
  AccessControl ALLOW_ALL =
      new AccessControl() {
        @Override
        public Authentication authenticate(Credentials credentials) {
          Objects.requireNonNull(credentials, "credentials");
          return Authentication.success(
              credentials.fromLoopback() ? Identity.loopback() : Identity.anonymous());
        }

        @Override
        public Decision authorize(Identity identity, Permission permission, String instance) {
          return Decision.allow();
        }

        @Override
        public String toString() {
          return "AccessControl.ALLOW_ALL";
        }
      };

  /**
   * Establishes who the caller is. No credentials is not a failure: the caller is {@link
   * Identity#anonymous()} (or {@link Identity#loopback()}), and {@link #authorize} decides what it
   * may do. Credentials that are presented and wrong are a failure.
   *
   * @param credentials what the caller presented
   * @return the identity, or a failure with a reason and a message naming what to send
   */
  Authentication authenticate(Credentials credentials);

  /**
   * Decides whether {@code identity} holds {@code permission} on {@code instance}.
   *
   * @param identity an identity {@link #authenticate} returned
   * @param permission what the call needs
   * @param instance the REAPI instance name ({@code ""} is the default); ignored for {@linkplain
   *     Permission#serverWide() server-wide} permissions
   * @return allowed, or refused with a message naming the permission, instance and identity
   */
  Decision authorize(Identity identity, Permission permission, String instance);

  /**
   * Told of every call the transport refused, to log and count it. Does nothing by default.
   *
   * @param refusal what was refused and why
   */
  default void refused(Refusal refusal) {}

  /** {@return {@link #ALLOW_ALL}} */
  static AccessControl allowAll() {
    return ALLOW_ALL;
  }
}
