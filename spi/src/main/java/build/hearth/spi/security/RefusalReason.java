package build.hearth.spi.security;

/**
 * Why a call was refused, from a fixed set so that metrics have bounded labels. Each has the label
 * metrics and logs use ({@link #label()}).
 */
public enum RefusalReason {
  /** No credentials, and the anonymous caller may not do this. */
  NO_CREDENTIALS("no_credentials"),
  /** An {@code authorization} header that is not {@code Bearer <token>}. */
  MALFORMED_CREDENTIALS("malformed_credentials"),
  /** A bearer token that is neither a known token nor an acceptable JWT. */
  UNKNOWN_TOKEN("unknown_token"),
  /** A JWT whose signature, issuer or audience does not check out. */
  INVALID_JWT("invalid_jwt"),
  /** A JWT that has expired or is not valid yet. */
  EXPIRED_JWT("expired_jwt"),
  /** An authenticated identity without the permission on the instance. */
  PERMISSION_DENIED("permission_denied"),
  /** A method or route the transport does not know the permission of. */
  UNKNOWN_METHOD("unknown_method");

  private final String label;

  RefusalReason(String label) {
    this.label = label;
  }

  /** {@return the metric label and log word, such as {@code "unknown_token"}} */
  public String label() {
    return label;
  }

  /**
   * {@return true if the caller failed to authenticate (the transport answers {@code
   * UNAUTHENTICATED} or HTTP 401), false if it was authenticated and refused ({@code
   * PERMISSION_DENIED}, HTTP 403)}
   */
  public boolean unauthenticated() {
    return this != PERMISSION_DENIED && this != UNKNOWN_METHOD;
  }
}
