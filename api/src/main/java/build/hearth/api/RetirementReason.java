package build.hearth.api;

import java.util.Locale;

/** Why a persistent worker process was ended; logged and counted in the pool's statistics. */
public enum RetirementReason {
  /** Idle for longer than the idle timeout. */
  IDLE,
  /** Served the configured number of requests. */
  MAX_REQUESTS,
  /** Its resident memory, read after a request, was over the limit. */
  MEMORY,
  /** It died, wrote something that is not a response, or broke the protocol otherwise. */
  CRASH,
  /** A newer version of its tool files arrived under the same client key. */
  TOOL_CHANGE,
  /** It was killed because a request on it was cancelled and the tool cannot cancel requests. */
  CANCELLED,
  /** The pool closed. */
  SHUTDOWN;

  /** {@return the name used in logs and metrics, such as {@code max_requests}} */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }
}
