package build.hearth.spi.security;

import java.util.Objects;
import java.util.Optional;

/**
 * The outcome of {@link AccessControl#authorize}: allowed, or refused with a reason and a message
 * that names the permission, the instance and the identity. A refusal whose {@link
 * RefusalReason#unauthenticated()} is true (an anonymous caller) is answered {@code
 * UNAUTHENTICATED}; any other {@code PERMISSION_DENIED}. Immutable and thread-safe.
 */
public final class Decision {
  private static final Decision ALLOWED = new Decision(null, "");

  private final RefusalReason reason;
  private final String message;

  private Decision(RefusalReason reason, String message) {
    this.reason = reason;
    this.message = message;
  }

  /** {@return the decision that allows the call} */
  public static Decision allow() {
    return ALLOWED;
  }

  /**
   * {@return a refusal}
   *
   * @param reason why, for metrics and the status code
   * @param message a sentence the caller can act on, without any secret
   * @throws NullPointerException if an argument is null
   */
  public static Decision refuse(RefusalReason reason, String message) {
    return new Decision(
        Objects.requireNonNull(reason, "reason"), Objects.requireNonNull(message, "message"));
  }

  /** {@return true if the call may proceed} */
  public boolean allowed() {
    return reason == null;
  }

  /** {@return why the call was refused, or empty if it was allowed} */
  public Optional<RefusalReason> reason() {
    return Optional.ofNullable(reason);
  }

  /** {@return the refusal's message; empty if allowed} */
  public String message() {
    return message;
  }

  @Override
  public String toString() {
    return allowed() ? "Decision{allowed}" : "Decision{" + reason + ": " + message + "}";
  }
}
