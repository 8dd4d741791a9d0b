package build.hearth.spi.storage;

import build.hearth.api.ConfigException;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A store's settings: the fields of its JSON object other than {@code "type"}, with typed getters
 * whose errors name the field's path and line.
 *
 * <p>The settings remember which fields a provider asked for. The host reports every field that was
 * never asked for as unknown, listing the ones that were, so a typo never passes silently.
 *
 * <p>Values are what JSON holds: {@code String}, {@code Long}, {@code Double}, {@code Boolean},
 * lists and maps. Thread-safe.
 */
public final class StoreSettings {
  private static final Pattern BYTE_SIZE =
      Pattern.compile("(\\d+)\\s*(B|KB|KiB|MB|MiB|GB|GiB|TB|TiB)?", Pattern.CASE_INSENSITIVE);

  private final String path;
  private final Map<String, Object> values;
  private final Map<String, Integer> lines;
  private final Set<String> asked = ConcurrentHashMap.newKeySet();

  private StoreSettings(String path, Map<String, ?> values, Map<String, Integer> lines) {
    this.path = Objects.requireNonNull(path, "path");
    this.values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
    this.lines = Map.copyOf(lines);
  }

  /** Settings built in code (embedding), with no file lines. */
  public static StoreSettings of(String path, Map<String, ?> values) {
    return new StoreSettings(path, values, Map.of());
  }

  /** Settings read from a file, with the line of each field. */
  public static StoreSettings of(String path, Map<String, ?> values, Map<String, Integer> lines) {
    return new StoreSettings(path, values, lines);
  }

  /** The JSON path of the store's object, such as {@code blobStores.cas}. */
  public String path() {
    return path;
  }

  /** Whether the field is present. Counts as asking for it. */
  public boolean has(String key) {
    asked.add(key);
    return values.containsKey(key);
  }

  /** A string field, or empty if absent. */
  public Optional<String> string(String key) {
    Object value = get(key);
    if (value == null) {
      return Optional.empty();
    }
    if (!(value instanceof String s)) {
      throw error(key, "expected a string, found " + describe(value));
    }
    return Optional.of(s);
  }

  /** A string field that must be present. */
  public String requireString(String key) {
    return string(key).orElseThrow(() -> error(key, "is required"));
  }

  /** A boolean field, or {@code defaultValue} if absent. */
  public boolean bool(String key, boolean defaultValue) {
    Object value = get(key);
    if (value == null) {
      return defaultValue;
    }
    if (!(value instanceof Boolean b)) {
      throw error(key, "expected true or false, found " + describe(value));
    }
    return b;
  }

  /** A whole-number field, or empty if absent. */
  public OptionalLong number(String key) {
    Object value = get(key);
    if (value == null) {
      return OptionalLong.empty();
    }
    if (!(value instanceof Long n)) {
      throw error(key, "expected a whole number, found " + describe(value));
    }
    return OptionalLong.of(n);
  }

  /**
   * A size in bytes, written as a number or as a string with a unit ({@code "512MiB"}, {@code
   * "10GB"}); empty if absent.
   */
  public OptionalLong bytes(String key) {
    Object value = get(key);
    if (value == null) {
      return OptionalLong.empty();
    }
    if (value instanceof Long n && n >= 0) {
      return OptionalLong.of(n);
    }
    if (value instanceof String s) {
      OptionalLong parsed = parseBytes(s);
      if (parsed.isPresent()) {
        return parsed;
      }
    }
    throw error(
        key,
        "expected a size in bytes such as 1048576, \"512MiB\" or \"10GB\", found "
            + describe(value));
  }

  /** A file-system path; a leading {@code ~/} means the user's home. Empty if absent. */
  public Optional<Path> path(String key) {
    Optional<String> text = string(key);
    if (text.isEmpty()) {
      return Optional.empty();
    }
    String raw = text.get();
    if (raw.isBlank()) {
      throw error(key, "expected a path, found an empty string");
    }
    if (raw.equals("~") || raw.startsWith("~/")) {
      raw = System.getProperty("user.home") + raw.substring(1);
    }
    try {
      return Optional.of(Path.of(raw));
    } catch (InvalidPathException e) {
      throw error(key, "'" + raw + "' is not a valid path: " + e.getReason());
    }
  }

  /** A path field that must be present. */
  public Path requirePath(String key) {
    return path(key).orElseThrow(() -> error(key, "is required"));
  }

  /** The raw value of a field (a JSON value), or null if absent. */
  public Object get(String key) {
    asked.add(key);
    return values.get(key);
  }

  /** An error about {@code key}, naming its path and line. */
  public ConfigException error(String key, String problem) {
    return new ConfigException(path + "." + key, lines.getOrDefault(key, 0), problem);
  }

  /**
   * Throws for the first field that no one asked for, listing the fields that were. Hosts call this
   * after a provider has created its store.
   *
   * @param type the store type, named in the message
   */
  public void rejectUnknown(String type) {
    for (String key : values.keySet()) {
      if (!asked.contains(key)) {
        Set<String> known = new TreeSet<>(asked);
        String hint =
            known.isEmpty()
                ? "stores of type '" + type + "' take no settings"
                : "stores of type '" + type + "' take: " + String.join(", ", known);
        throw error(key, "unknown field; " + hint);
      }
    }
  }

  /** Parses {@code "10GiB"}, {@code "512 MB"} or {@code "4096"}; empty if it is none of those. */
  public static OptionalLong parseBytes(String text) {
    Matcher m = BYTE_SIZE.matcher(text.trim());
    if (!m.matches()) {
      return OptionalLong.empty();
    }
    String unit = m.group(2) == null ? "B" : m.group(2).toUpperCase(Locale.ROOT);
    long multiplier =
        switch (unit) {
          case "B" -> 1L;
          case "KB" -> 1_000L;
          case "KIB" -> 1L << 10;
          case "MB" -> 1_000_000L;
          case "MIB" -> 1L << 20;
          case "GB" -> 1_000_000_000L;
          case "GIB" -> 1L << 30;
          case "TB" -> 1_000_000_000_000L;
          case "TIB" -> 1L << 40;
          default -> throw new AssertionError(unit);
        };
    try {
      return OptionalLong.of(Math.multiplyExact(Long.parseLong(m.group(1)), multiplier));
    } catch (ArithmeticException | NumberFormatException e) {
      return OptionalLong.empty();
    }
  }

  private static String describe(Object value) {
    if (value instanceof String s) {
      return "the string \"" + s + "\"";
    }
    if (value instanceof Map) {
      return "an object";
    }
    if (value instanceof java.util.List) {
      return "an array";
    }
    return value.getClass() == Boolean.class ? String.valueOf(value) : "the number " + value;
  }
}
