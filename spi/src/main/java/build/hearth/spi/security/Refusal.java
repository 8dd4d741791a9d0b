package build.hearth.spi.security;

import java.net.SocketAddress;
import java.util.Objects;
import java.util.Optional;

/**
 * One refused call, as a transport reports it to {@link AccessControl#refused} for logs and
 * metrics. Carries no secret.
 *
 * @param reason why the call was refused
 * @param permission the permission the call needed, or null when it was refused before that was
 *     known (a failed authentication)
 * @param instance the instance name the call was for, or null if not known
 * @param identity the caller's identity name, or null if authentication failed
 * @param remoteAddress the caller's address, or null if unknown
 * @param message the message the caller was sent
 */
public record Refusal(
    RefusalReason reason,
    Permission permission,
    String instance,
    String identity,
    SocketAddress remoteAddress,
    String message) {
  /**
   * Checks the required fields.
   *
   * @param reason why the call was refused
   * @param permission the needed permission, or null
   * @param instance the instance name, or null
   * @param identity the identity name, or null
   * @param remoteAddress the caller's address, or null
   * @param message the message the caller was sent
   * @throws NullPointerException if {@code reason} or {@code message} is null
   */
  public Refusal {
    Objects.requireNonNull(reason, "reason");
    Objects.requireNonNull(message, "message");
  }

  /** {@return the permission, if known} */
  public Optional<Permission> neededPermission() {
    return Optional.ofNullable(permission);
  }
}
