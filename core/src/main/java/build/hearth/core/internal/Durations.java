package build.hearth.core.internal;

import java.time.Duration;

/** How durations appear in Hearth's messages and logs. */
public final class Durations {
  private Durations() {}

  /**
   * {@code duration} in nanoseconds, or {@link Long#MAX_VALUE} for one too long to count them (a
   * timeout of centuries), as a wait's limit.
   */
  public static long toNanosSaturated(Duration duration) {
    try {
      return duration.toNanos();
    } catch (ArithmeticException e) {
      return Long.MAX_VALUE;
    }
  }

  /** {@code 2h}, {@code 1h30m}, {@code 45s}, {@code 1s500ms}, {@code 250ms}, {@code 0s}. */
  public static String format(Duration duration) {
    if (duration.isZero() || duration.isNegative()) {
      return "0s";
    }
    StringBuilder text = new StringBuilder();
    long hours = duration.toHours();
    if (hours > 0) {
      text.append(hours).append('h');
    }
    if (duration.toMinutesPart() > 0) {
      text.append(duration.toMinutesPart()).append('m');
    }
    if (duration.toSecondsPart() > 0) {
      text.append(duration.toSecondsPart()).append('s');
    }
    if (duration.toMillisPart() > 0) {
      text.append(duration.toMillisPart()).append("ms");
    }
    return text.length() == 0 ? duration.toString() : text.toString();
  }
}
