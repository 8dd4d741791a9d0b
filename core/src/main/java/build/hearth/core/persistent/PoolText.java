package build.hearth.core.persistent;

import java.util.Locale;

/** How the pool writes sizes in log lines and errors. */
final class PoolText {
  private static final String[] UNITS = {"KiB", "MiB", "GiB", "TiB"};

  private PoolText() {}

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
