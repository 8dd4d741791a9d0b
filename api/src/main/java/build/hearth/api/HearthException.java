package build.hearth.api;

import java.util.Locale;
import java.util.Objects;

/**
 * The one unchecked exception that Hearth's API and SPI throw for failures a caller can act on. It
 * carries a {@link StatusCode} so that a transport maps it in one place (gRPC turns it into a
 * {@code Status} with the same code and message). Programming errors, such as a null argument, use
 * the JDK's exceptions instead.
 *
 * <p>Messages are written for the person who has to fix the problem: they name the offending value
 * and, where there is one, the fix.
 */
public class HearthException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final StatusCode code;

  public HearthException(StatusCode code, String message) {
    this(code, message, null);
  }

  public HearthException(StatusCode code, String message, Throwable cause) {
    super(message, cause);
    this.code = Objects.requireNonNull(code, "code");
    if (code == StatusCode.OK) {
      throw new IllegalArgumentException("a HearthException cannot carry OK");
    }
  }

  /** The status code of this failure; never {@link StatusCode#OK}. */
  public StatusCode code() {
    return code;
  }

  public static HearthException invalidArgument(String format, Object... args) {
    return new HearthException(StatusCode.INVALID_ARGUMENT, format(format, args));
  }

  public static HearthException notFound(String format, Object... args) {
    return new HearthException(StatusCode.NOT_FOUND, format(format, args));
  }

  public static HearthException failedPrecondition(String format, Object... args) {
    return new HearthException(StatusCode.FAILED_PRECONDITION, format(format, args));
  }

  public static HearthException outOfRange(String format, Object... args) {
    return new HearthException(StatusCode.OUT_OF_RANGE, format(format, args));
  }

  public static HearthException resourceExhausted(String format, Object... args) {
    return new HearthException(StatusCode.RESOURCE_EXHAUSTED, format(format, args));
  }

  public static HearthException internal(String message, Throwable cause) {
    return new HearthException(StatusCode.INTERNAL, message, cause);
  }

  public static HearthException unavailable(String message, Throwable cause) {
    return new HearthException(StatusCode.UNAVAILABLE, message, cause);
  }

  private static String format(String format, Object... args) {
    return args.length == 0 ? format : String.format(Locale.ROOT, format, args);
  }

  @Override
  public String toString() {
    return "HearthException{" + code + ": " + getMessage() + "}";
  }
}
