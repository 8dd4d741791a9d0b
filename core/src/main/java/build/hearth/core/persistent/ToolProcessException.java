package build.hearth.core.persistent;

import java.util.Objects;

/**
 * A persistent worker process failed a request: it could not start, wrote something on stdout that
 * is not a response, or ended before answering. The message says what happened and ends with the
 * tail of the process's stderr, so that it can be shown to the user as it is. The process is no
 * longer usable after any of these.
 */
public final class ToolProcessException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** What went wrong. */
  public enum Kind {
    /** The process could not be started, or ended before its first response. */
    START_FAILED,
    /** It wrote bytes on stdout that are not a response, or a response to no pending request. */
    PROTOCOL,
    /** It ended (or closed stdout) while requests were pending. */
    DIED
  }

  private final Kind kind;

  public ToolProcessException(Kind kind, String message) {
    super(message);
    this.kind = Objects.requireNonNull(kind, "kind");
  }

  public ToolProcessException(Kind kind, String message, Throwable cause) {
    super(message, cause);
    this.kind = Objects.requireNonNull(kind, "kind");
  }

  public Kind kind() {
    return kind;
  }
}
