package build.hearth.core.persistent;

import java.time.Duration;
import java.util.Locale;

/** How the pool writes durations and sizes in log lines and errors. */
final class PoolText {
  private static final String[] UNITS = {"KiB", "MiB", "GiB", "TiB"};

  private PoolText() {}

  /** Such as {@code 250ms}, {@code 30s}, {@code 5m} or {@code 1h2m}. */
  static String duration(Duration duration) {
    if (duration.compareTo(Duration.ofSeconds(1)) < 0) {
      return Math.max(0, duration.toMillis()) + "ms";
    }
    StringBuilder text = new StringBuilder();
    long hours = duration.toHours();
    if (hours > 0) {
      text.append(hours).append('h');
    }
    if (duration.toMinutesPart() > 0) {
      text.append(duration.toMinutesPart()).append('m');
    }
    if (duration.toSecondsPart() > 0 || text.length() == 0) {
      text.append(duration.toSecondsPart()).append('s');
    }
    return text.toString();
  }

  /** Such as {@code 512 bytes}, {@code 1.5 MiB} or {@code 2.1 GiB}. */
  static String bytes(long bytes) {
    if (bytes < 1024) {
      return bytes + " bytes";
    }
    double value = bytes;
    int unit = -1;
    while (value >= 1024 && unit < UNITS.length - 1) {
      value /= 1024;
      unit++;
    }
    return String.format(Locale.ROOT, "%.1f %s", value, UNITS[unit]);
  }
}
