package build.hearth.core.config;

import build.hearth.spi.storage.StoreSettings;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * One named store of the configuration: its provider's {@code type} and the remaining fields, which
 * only the provider understands.
 *
 * <p>The reader checks that {@code type} is present and is a string, but not that a provider of
 * that type exists or that the other fields suit it: the host does that when it creates the store,
 * passing {@link #typePath()} and {@link #typeLine()} to {@link
 * build.hearth.spi.storage.StoreProviderRegistry} so those errors point into the file too.
 *
 * <p>Immutable and thread-safe. Equality compares name, type and settings, not source lines.
 */
public final class StoreConfig {
  private final String name;
  private final String type;
  private final String path;
  private final int typeLine;
  private final Map<String, Object> values;
  private final Map<String, Integer> lines;

  StoreConfig(
      String name,
      String type,
      String path,
      int typeLine,
      Map<String, Object> values,
      Map<String, Integer> lines) {
    this.name = Objects.requireNonNull(name, "name");
    this.type = Objects.requireNonNull(type, "type");
    this.path = Objects.requireNonNull(path, "path");
    this.typeLine = typeLine;
    this.values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
    this.lines = Map.copyOf(lines);
  }

  /** {@return the store's name, the key under {@code blobStores} or {@code actionCacheStores}} */
  public String name() {
    return name;
  }

  /** {@return the provider's type name, such as {@code filesystem} or {@code memory}} */
  public String type() {
    return type;
  }

  /** {@return the JSON path of the {@code type} field, such as {@code blobStores.cas.type}} */
  public String typePath() {
    return ConfigPaths.member(path, "type");
  }

  /**
   * {@return the line of the {@code type} field, or 0 when the configuration was not read from
   * text}
   */
  public int typeLine() {
    return typeLine;
  }

  /**
   * {@return the store's other fields, as plain Java values ({@code String}, {@code Long}, {@code
   * Double}, {@code Boolean}, lists and maps) with the line of each}
   *
   * <p>Each call returns new settings: settings remember which fields a provider asked for, so that
   * the host can reject the rest, and each store creation must start from a clean slate.
   */
  public StoreSettings settings() {
    return StoreSettings.of(path, values, lines);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof StoreConfig that
        && name.equals(that.name)
        && type.equals(that.type)
        && values.equals(that.values);
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, type, values);
  }

  @Override
  public String toString() {
    return "StoreConfig{name=" + name + ", type=" + type + ", settings=" + values + "}";
  }
}
