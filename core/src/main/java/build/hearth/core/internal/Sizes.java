package build.hearth.core.internal;

import java.util.Locale;

/** How sizes appear in Hearth's messages, logs and tables. */
public final class Sizes {
  private static final String[] UNITS = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};

  private Sizes() {}

  /** {@code bytes} in binary units: {@code 512 B}, {@code 1.5 KiB}, {@code 300.0 MiB}. */
  public static String binary(long bytes) {
    if (bytes < 1024) {
      return bytes + " B";
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
