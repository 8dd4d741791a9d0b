package build.hearth.spi.security;

import java.util.Objects;
import java.util.Optional;

/**
 * The outcome of {@link AccessControl#authenticate}: an identity, or the reason there is none with
 * a message the caller can act on. Immutable and thread-safe; the message never holds a secret.
 */
public final class Authentication {
  private final Identity identity;
  private final RefusalReason reason;
  private final String message;

  private Authentication(Identity identity, RefusalReason reason, String message) {
    this.identity = identity;
    this.reason = reason;
    this.message = message;
  }

  /**
   * {@return a successful authentication}
   *
   * @param identity who the caller is
   * @throws NullPointerException if {@code identity} is null
   */
  public static Authentication success(Identity identity) {
    return new Authentication(Objects.requireNonNull(identity, "identity"), null, "");
  }

  /**
   * {@return a failed authentication}
   *
   * @param reason why, for metrics
   * @param message what was wrong and what to send instead, without any secret
   * @throws NullPointerException if an argument is null
   * @throws IllegalArgumentException if {@code reason} is not an authentication failure
   */
  public static Authentication failure(RefusalReason reason, String message) {
    Objects.requireNonNull(reason, "reason");
    Objects.requireNonNull(message, "message");
    if (!reason.unauthenticated()) {
      throw new IllegalArgumentException(reason + " is not an authentication failure");
    }
    return new Authentication(null, reason, message);
  }

  /** {@return the identity, or empty if authentication failed} */
  public Optional<Identity> identity() {
    return Optional.ofNullable(identity);
  }

  /** {@return why authentication failed, or empty if it succeeded} */
  public Optional<RefusalReason> reason() {
    return Optional.ofNullable(reason);
  }

  /** {@return the failure's message; empty if authentication succeeded} */
  public String message() {
    return message;
  }

  @Override
  public String toString() {
    return identity != null ? "Authentication{" + identity + "}" : "Authentication{" + reason + "}";
  }
}
