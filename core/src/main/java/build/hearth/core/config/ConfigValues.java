package build.hearth.core.config;

import build.hearth.core.config.Node.ValueNode;
import build.hearth.spi.storage.StoreSettings;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The value formats that several sections share (sizes, durations, counts, paths) and the check of
 * a reference to a named entry, so that each reads and fails the same way wherever it is used.
 */
final class ConfigValues {
  static final String DURATION_EXAMPLES =
      "a duration with a unit, such as \"250ms\", \"30s\", \"15m\", \"1h\" or \"2d\"";

  // Longer durations are surely a mistake, and adding them to an instant could overflow.
  private static final Duration MAX_DURATION = Duration.ofDays(365);

  private static final Pattern DURATION = Pattern.compile("(\\d{1,12})\\s*(ms|s|m|h|d)");

  private ConfigValues() {}

  /** A size written as a number of bytes or as a string with a unit, such as "4MiB". */
  static long bytes(Node node) {
    if (node instanceof ValueNode v) {
      if (v.value() instanceof Long n && n >= 0) {
        return n;
      }
      if (v.value() instanceof String s) {
        OptionalLong parsed = StoreSettings.parseBytes(s);
        if (parsed.isPresent()) {
          return parsed.getAsLong();
        }
      }
    }
    throw Fields.wrongType(node, "a size in bytes such as 4194304 or \"4MiB\"");
  }

  /**
   * A size as {@link #bytes} reads it, from {@code min} to {@code max} bytes; the error names both
   * in bytes and in MiB.
   */
  static long sizeBetween(Node node, long min, long max) {
    long bytes = bytes(node);
    if (bytes < min || bytes > max) {
      throw Fields.invalid(
          node,
          "must be from "
              + min
              + " bytes ("
              + mib(min)
              + ") to "
              + max
              + " bytes ("
              + mib(max)
              + "), found "
              + node.describe());
    }
    return bytes;
  }

  private static String mib(long bytes) {
    return String.format(java.util.Locale.ROOT, "%.1f MiB", bytes / (double) (1 << 20));
  }

  /**
   * A positive duration: a string of a whole number and one unit. A bare number is refused rather
   * than read as seconds, because "timeout": 900 could as well mean milliseconds.
   */
  static Duration duration(Node node) {
    if (!(node instanceof ValueNode v && v.value() instanceof String text)) {
      throw Fields.wrongType(node, DURATION_EXAMPLES);
    }
    Matcher m = DURATION.matcher(text.trim());
    if (!m.matches()) {
      throw Fields.wrongType(node, DURATION_EXAMPLES);
    }
    long amount = Long.parseLong(m.group(1));
    Duration duration =
        switch (m.group(2)) {
          case "ms" -> Duration.ofMillis(amount);
          case "s" -> Duration.ofSeconds(amount);
          case "m" -> Duration.ofMinutes(amount);
          case "h" -> Duration.ofHours(amount);
          case "d" -> Duration.ofDays(amount);
          default -> throw new AssertionError(m.group(2));
        };
    if (duration.isZero()) {
      throw Fields.invalid(node, "must be longer than zero, found " + node.describe());
    }
    if (duration.compareTo(MAX_DURATION) > 0) {
      throw Fields.invalid(node, "must be at most a year (\"365d\"), found " + node.describe());
    }
    return duration;
  }

  /** A duration as this file format writes it, in its largest exact unit: "90m", "1500ms". */
  static String format(Duration duration) {
    long millis = duration.toMillis();
    if (millis % 1000 != 0) {
      return millis + "ms";
    }
    long seconds = millis / 1000;
    if (seconds % 86400 == 0) {
      return seconds / 86400 + "d";
    }
    if (seconds % 3600 == 0) {
      return seconds / 3600 + "h";
    }
    if (seconds % 60 == 0) {
      return seconds / 60 + "m";
    }
    return seconds + "s";
  }

  /** A whole number from {@code min} to {@link Integer#MAX_VALUE}. */
  static int count(Node node, int min, String belowMin) {
    if (!(node instanceof ValueNode v && v.value() instanceof Long n)) {
      throw Fields.wrongType(node, "a whole number");
    }
    if (n < min) {
      throw Fields.invalid(node, belowMin + ", found " + node.describe());
    }
    if (n > Integer.MAX_VALUE) {
      throw Fields.invalid(node, "must be at most " + Integer.MAX_VALUE + ", found " + n);
    }
    return (int) (long) n;
  }

  /**
   * A file-system path; a leading {@code ~/} means the user's home directory, as in the stores'
   * settings. Relative paths stay relative, to the directory the process was started in.
   */
  static Path path(Node node) {
    String text = Fields.string(node);
    if (text.isBlank()) {
      throw Fields.invalid(node, "expected a path, found " + node.describe());
    }
    try {
      return expand(text);
    } catch (InvalidPathException e) {
      throw Fields.invalid(
          node, ConfigPaths.quote(text) + " is not a valid path: " + e.getReason());
    }
  }

  /** A path written as in a file, with {@code ~} expanded; for defaults known to be valid. */
  static Path expand(String text) {
    String expanded = text;
    if (text.equals("~") || text.startsWith("~/")) {
      expanded = System.getProperty("user.home") + text.substring(1);
    }
    return Path.of(expanded).normalize();
  }

  /**
   * Checks that {@code name} is a key of {@code defined}, the entries of the top-level section
   * {@code section}; otherwise the message lists the names that are defined.
   *
   * @param what the kind of entry, for the message: "blob store", "scheduler"
   */
  static void checkReference(
      Node node, String name, Map<String, ?> defined, String what, String section) {
    if (defined.containsKey(name)) {
      return;
    }
    String problem = "no " + what + " named " + ConfigPaths.display(name);
    if (defined.isEmpty()) {
      problem += "; none are defined (add one under \"" + section + "\")";
    } else {
      problem += "; defined: " + segments(defined.keySet());
    }
    throw Fields.invalid(node, problem);
  }

  /** Names as they appear in paths, comma-separated: {@code cas, "team.cache"}. */
  static String segments(Iterable<String> names) {
    List<String> shown = new ArrayList<>();
    names.forEach(name -> shown.add(ConfigPaths.segment(name)));
    return String.join(", ", shown);
  }
}
