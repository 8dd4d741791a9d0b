package build.hearth.api;

import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * The one unchecked exception that Hearth's API and SPI throw for failures a caller can act on. It
 * carries a {@link StatusCode} so that a transport maps it in one place (gRPC turns it into a
 * {@code Status} with the same code and message). Programming errors, such as a null argument, use
 * the JDK's exceptions instead.
 *
 * <p>Messages are written for the person who has to fix the problem: they name the offending value
 * and, where there is one, the fix.
 *
 * <pre>{@code
 * throw HearthException.notFound("blob %s is not in the CAS", digest);
 *
 * try {
 *   return Optional.of(cas.get(digest));
 * } catch (HearthException e) {
 *   if (e.code() == StatusCode.NOT_FOUND) {
 *     return Optional.empty();
 *   }
 *   throw e;
 * }
 * }</pre>
 *
 * <p>The factories format with {@link String#format} in {@link Locale#ROOT}, so messages read the
 * same on every machine; a format with no arguments is used as is, so a {@code %} in it needs no
 * escaping. The code and message of an instance never change.
 */
public class HearthException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Why the operation failed; never {@link StatusCode#OK}. */
  private final StatusCode code;

  /** The limit that refused the request, such as {@code upload_sessions_per_client}; or null. */
  private final String limit;

  /** How long the client should wait before retrying; null when retrying does not help. */
  private final Duration retryAfter;

  /**
   * A failure with no underlying cause.
   *
   * @param code the status a transport reports; not {@link StatusCode#OK}
   * @param message what went wrong, for the person who has to fix it
   * @throws IllegalArgumentException if {@code code} is OK
   * @throws NullPointerException if {@code code} is null
   */
  public HearthException(StatusCode code, String message) {
    this(code, message, null);
  }

  /**
   * A failure caused by another exception, such as an {@code IOException} from a store.
   *
   * @param code the status a transport reports; not {@link StatusCode#OK}
   * @param message what went wrong, for the person who has to fix it
   * @param cause the underlying exception, or null if there is none
   * @throws IllegalArgumentException if {@code code} is OK
   * @throws NullPointerException if {@code code} is null
   */
  public HearthException(StatusCode code, String message, Throwable cause) {
    this(code, message, cause, null, null);
  }

  private HearthException(
      StatusCode code, String message, Throwable cause, String limit, Duration retryAfter) {
    super(message, cause);
    this.code = Objects.requireNonNull(code, "code");
    if (code == StatusCode.OK) {
      throw new IllegalArgumentException("a HearthException cannot carry OK");
    }
    this.limit = limit;
    this.retryAfter = retryAfter;
  }

  /** {@return the status code of this failure; never {@link StatusCode#OK}} */
  public StatusCode code() {
    return code;
  }

  /**
   * {@return the name of the configured limit that refused the request, such as {@code
   * upload_sessions_per_client}; empty when no limit did} Names are fixed strings in the code,
   * never taken from a request, so a transport may count refusals by them.
   */
  public Optional<String> limit() {
    return Optional.ofNullable(limit);
  }

  /**
   * {@return how long the client should wait before trying again; empty when retrying the same
   * request would not help} A gRPC transport sends it as a {@code google.rpc.RetryInfo}.
   */
  public Optional<Duration> retryAfter() {
    return Optional.ofNullable(retryAfter);
  }

  /**
   * An INVALID_ARGUMENT failure: the request is malformed.
   *
   * @param format the message, or a {@link String#format} pattern when {@code args} are given
   * @param args the pattern's arguments
   * @return a new exception to throw
   */
  public static HearthException invalidArgument(String format, Object... args) {
    return new HearthException(StatusCode.INVALID_ARGUMENT, format(format, args));
  }

  /**
   * A NOT_FOUND failure: something named in the request is absent.
   *
   * @param format the message, or a {@link String#format} pattern when {@code args} are given
   * @param args the pattern's arguments
   * @return a new exception to throw
   */
  public static HearthException notFound(String format, Object... args) {
    return new HearthException(StatusCode.NOT_FOUND, format(format, args));
  }

  /**
   * A FAILED_PRECONDITION failure: the server's state does not allow the request yet.
   *
   * @param format the message, or a {@link String#format} pattern when {@code args} are given
   * @param args the pattern's arguments
   * @return a new exception to throw
   */
  public static HearthException failedPrecondition(String format, Object... args) {
    return new HearthException(StatusCode.FAILED_PRECONDITION, format(format, args));
  }

  /**
   * An OUT_OF_RANGE failure: a position or length is outside its valid range.
   *
   * @param format the message, or a {@link String#format} pattern when {@code args} are given
   * @param args the pattern's arguments
   * @return a new exception to throw
   */
  public static HearthException outOfRange(String format, Object... args) {
    return new HearthException(StatusCode.OUT_OF_RANGE, format(format, args));
  }

  /**
   * A RESOURCE_EXHAUSTED failure: a size or quota limit was reached.
   *
   * @param format the message, or a {@link String#format} pattern when {@code args} are given
   * @param args the pattern's arguments
   * @return a new exception to throw
   */
  public static HearthException resourceExhausted(String format, Object... args) {
    return new HearthException(StatusCode.RESOURCE_EXHAUSTED, format(format, args));
  }

  /**
   * A failure because a configured limit was reached: RESOURCE_EXHAUSTED when the server is busy or
   * full and the request may succeed later ({@code retryAfter} given), or when a request asks for
   * more than a limit allows. The message names the limit's configuration field and its value.
   *
   * @param limit the limit's name, a fixed string such as {@code upload_sessions_per_client}:
   *     lower-case letters, digits and underscores
   * @param retryAfter how long the client should wait before retrying, or null when retrying the
   *     same request cannot help
   * @param format the message, or a {@link String#format} pattern when {@code args} are given
   * @param args the pattern's arguments
   * @return a new exception to throw
   * @throws IllegalArgumentException if {@code limit} is not such a name, or {@code retryAfter} is
   *     negative
   */
  public static HearthException limitReached(
      String limit, Duration retryAfter, String format, Object... args) {
    if (!limit.matches("[a-z][a-z0-9_]*")) {
      throw new IllegalArgumentException("a limit's name is lower_snake_case, not '" + limit + "'");
    }
    if (retryAfter != null && retryAfter.isNegative()) {
      throw new IllegalArgumentException("retryAfter must not be negative");
    }
    return new HearthException(
        StatusCode.RESOURCE_EXHAUSTED, format(format, args), null, limit, retryAfter);
  }

  /**
   * An INTERNAL failure: something that should not happen did, such as an unexpected I/O error.
   *
   * @param message what was being done, for the log
   * @param cause the exception that broke it, or null
   * @return a new exception to throw
   */
  public static HearthException internal(String message, Throwable cause) {
    return new HearthException(StatusCode.INTERNAL, message, cause);
  }

  /**
   * An UNAVAILABLE failure: a transient one, such as a store whose disk or database cannot be
   * reached, which the client may retry.
   *
   * @param message what was being done and what could not be reached
   * @param cause the exception that broke it, or null
   * @return a new exception to throw
   */
  public static HearthException unavailable(String message, Throwable cause) {
    return new HearthException(StatusCode.UNAVAILABLE, message, cause);
  }

  private static String format(String format, Object... args) {
    return args.length == 0 ? format : String.format(Locale.ROOT, format, args);
  }

  /** {@return the code and the message, for logs and test failures} */
  @Override
  public String toString() {
    return "HearthException{" + code + ": " + getMessage() + "}";
  }
}
