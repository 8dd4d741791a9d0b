package build.hearth.spi.storage;

import build.hearth.api.ConfigException;
import java.math.BigInteger;
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
 * lists and maps. Settings built in code may give whole numbers as any integral {@link Number}
 * ({@code Integer}, {@code Short}, {@code Byte}, {@code Long}, or a {@code BigInteger} within the
 * range of a {@code long}): they read as the same {@code Long}, so {@code Map.of("maxSize",
 * 1048576)} means what it says. Thread-safe. Keys are never null. Every getter that finds a value
 * of the wrong type throws a {@link ConfigException} (INVALID_ARGUMENT) whose message starts with
 * the field's path and line and says what was expected.
 *
 * <pre>{@code
 * Path file = settings.requirePath("file");                        // required
 * long maxSize = settings.bytes("maxSize").orElse(10L << 30);       // "10GiB" or 10737418240
 * boolean sync = settings.bool("sync", true);                       // optional, with a default
 * }</pre>
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
    Map<String, Object> copy = new LinkedHashMap<>();
    values.forEach((key, value) -> copy.put(key, wholeNumbersAsLong(value)));
    this.values = Collections.unmodifiableMap(copy);
    this.lines = Map.copyOf(lines);
  }

  /**
   * Settings built in code (embedding), with no file lines.
   *
   * @param path the JSON path of the store's object, used in error messages
   * @param values the fields, as JSON values; copied
   * @return the settings
   */
  public static StoreSettings of(String path, Map<String, ?> values) {
    return new StoreSettings(path, values, Map.of());
  }

  /**
   * Settings read from a file, with the line of each field.
   *
   * @param path the JSON path of the store's object, used in error messages
   * @param values the fields, as JSON values; copied
   * @param lines the 1-based line of each field; a field with no entry has no line in messages
   * @return the settings
   */
  public static StoreSettings of(String path, Map<String, ?> values, Map<String, Integer> lines) {
    return new StoreSettings(path, values, lines);
  }

  /** {@return the JSON path of the store's object, such as {@code blobStores.cas}} */
  public String path() {
    return path;
  }

  /**
   * Checks for a field without reading it. Counts as asking for it.
   *
   * @param key the field's name
   * @return whether the field is present
   */
  public boolean has(String key) {
    asked.add(key);
    return values.containsKey(key);
  }

  /**
   * Reads an optional string field.
   *
   * @param key the field's name
   * @return the string, or empty if the field is absent
   * @throws ConfigException if the field holds something other than a string, naming its path and
   *     line
   */
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

  /**
   * Reads a required string field.
   *
   * @param key the field's name
   * @return the string
   * @throws ConfigException if the field is absent or not a string, naming its path and line
   */
  public String requireString(String key) {
    return string(key).orElseThrow(() -> error(key, "is required"));
  }

  /**
   * Reads an optional boolean field.
   *
   * @param key the field's name
   * @param defaultValue what an absent field means
   * @return the field's value, or {@code defaultValue} if it is absent
   * @throws ConfigException if the field holds something other than true or false, naming its path
   *     and line
   */
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

  /**
   * Reads an optional whole-number field. A number with a fraction or an exponent is refused.
   *
   * @param key the field's name
   * @return the number, or empty if the field is absent
   * @throws ConfigException if the field holds something other than a whole number, naming its path
   *     and line
   */
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
   * "10GB"}). Units are case-insensitive; KB, MB, GB and TB are powers of 1000 and KiB, MiB, GiB
   * and TiB powers of 1024.
   *
   * @param key the field's name
   * @return the size in bytes, or empty if the field is absent
   * @throws ConfigException if the field holds a negative number, a size that overflows a long or
   *     anything else, naming its path and line
   */
  public OptionalLong bytes(String key) {
    Object value = get(key);
    if (value == null) {
      return OptionalLong.empty();
    }
    if (value instanceof Long n) {
      if (n >= 0) {
        return OptionalLong.of(n);
      }
      throw error(key, "expected a size in bytes of at least 0, found the negative number " + n);
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

  /**
   * Reads an optional file-system path; a leading {@code ~/} means the user's home. A relative path
   * is returned as is, relative to the working directory.
   *
   * @param key the field's name
   * @return the path, or empty if the field is absent
   * @throws ConfigException if the field holds something other than a string, an empty string or an
   *     invalid path, naming its path and line
   */
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

  /**
   * Reads a required file-system path, as {@link #path(String)} does.
   *
   * @param key the field's name
   * @return the path
   * @throws ConfigException if the field is absent or not a valid path, naming its path and line
   */
  public Path requirePath(String key) {
    return path(key).orElseThrow(() -> error(key, "is required"));
  }

  /**
   * Reads a field of a type the typed getters do not cover, such as a list or an object. Counts as
   * asking for it.
   *
   * @param key the field's name
   * @return the raw value of the field (a JSON value), or null if it is absent
   */
  public Object get(String key) {
    asked.add(key);
    return values.get(key);
  }

  /**
   * Reads an optional object field as settings of their own, such as the settings of a store nested
   * in this one (a {@code tiered} store's {@code local} and {@code shared}). Errors about the
   * nested fields name their full path, such as {@code blobStores.main.shared.maxSize}, and the
   * nested settings remember what was asked of them, so the host can reject their unknown fields
   * too. Counts as asking for {@code key}.
   *
   * @param key the field's name
   * @return the nested settings, or empty if the field is absent
   * @throws ConfigException if the field holds something other than an object, naming its path and
   *     line
   */
  public Optional<StoreSettings> nested(String key) {
    Object value = get(key);
    if (value == null) {
      return Optional.empty();
    }
    if (!(value instanceof Map<?, ?> map)) {
      throw error(key, "expected an object, found " + describe(value));
    }
    Map<String, Object> fields = new LinkedHashMap<>();
    for (Map.Entry<?, ?> entry : map.entrySet()) {
      if (!(entry.getKey() instanceof String name)) {
        throw error(key, "expected an object with string keys, found the key " + entry.getKey());
      }
      fields.put(name, entry.getValue());
    }
    // A host that read a file records the lines of nested fields under dotted keys ("shared.type").
    String prefix = key + ".";
    Map<String, Integer> nestedLines = new LinkedHashMap<>();
    lines.forEach(
        (name, line) -> {
          if (name.startsWith(prefix)) {
            nestedLines.put(name.substring(prefix.length()), line);
          }
        });
    return Optional.of(new StoreSettings(path + "." + key, fields, nestedLines));
  }

  /** The 1-based line of a field in the file the settings were read from, or 0 when unknown. */
  int line(String key) {
    return lines.getOrDefault(key, 0);
  }

  /**
   * Builds an error about a field whose value the provider itself finds wrong, such as a directory
   * that cannot be created.
   *
   * <pre>{@code
   * throw settings.error("file", "cannot open " + file + ": " + e.getMessage());
   * }</pre>
   *
   * @param key the field's name
   * @param problem what is wrong and, where possible, how to fix it
   * @return an exception to throw, naming the field's path and line
   */
  public ConfigException error(String key, String problem) {
    return new ConfigException(path + "." + key, line(key), problem);
  }

  /**
   * Throws for the first field that no one asked for, listing the fields that were. Hosts call this
   * after a provider has created its store; providers do not.
   *
   * @param type the store type, named in the message
   * @throws ConfigException for the first unknown field, naming its path and line
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

  /**
   * Parses a size with an optional unit, with the rules of {@link #bytes(String)}.
   *
   * @param text such as {@code "10GiB"}, {@code "512 MB"} or {@code "4096"}
   * @return the size in bytes, or empty if the text is none of those forms or overflows a long
   */
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

  /** Integral numbers given in code, of any boxed type, become the {@code Long} JSON gives. */
  private static Object wholeNumbersAsLong(Object value) {
    if (value instanceof Integer || value instanceof Short || value instanceof Byte) {
      return ((Number) value).longValue();
    }
    if (value instanceof BigInteger big && big.bitLength() < Long.SIZE) {
      return big.longValue();
    }
    return value;
  }

  private static String describe(Object value) {
    if (value instanceof BigInteger big) {
      return "the number " + big + ", which does not fit in 64 bits";
    }
    if (value instanceof Number n && !(value instanceof Long)) {
      return "the number "
          + n
          + " of type "
          + value.getClass().getSimpleName()
          + " (write a whole number without a fraction or exponent)";
    }
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
