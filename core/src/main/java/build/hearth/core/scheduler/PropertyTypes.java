package build.hearth.core.scheduler;

import build.hearth.api.HearthException;
import java.math.BigDecimal;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/** The configured property types, and the parsing of numeric values they imply. Immutable. */
final class PropertyTypes {
  private final Map<String, PropertyType> types;
  private final PropertyType unknown;

  PropertyTypes(Map<String, PropertyType> types, PropertyType unknown) {
    this.types = Collections.unmodifiableMap(new TreeMap<>(types));
    this.unknown = unknown;
  }

  /** The type of property {@code name}, or null if the scheduler does not accept it. */
  PropertyType typeOf(String name) {
    PropertyType type = types.get(name);
    return type != null ? type : unknown;
  }

  Map<String, PropertyType> configured() {
    return types;
  }

  String supported() {
    return types.isEmpty() ? "(none configured)" : String.join(", ", types.keySet());
  }

  /**
   * Parses a {@link PropertyType#MINIMUM} value. Scale is stripped so that equal numbers make equal
   * keys ("4" and "4.0" queue together).
   *
   * @param what who the value belongs to, for the message
   */
  static BigDecimal number(String name, String value, String what) {
    try {
      return new BigDecimal(value).stripTrailingZeros();
    } catch (NumberFormatException e) {
      throw HearthException.invalidArgument(
          "platform property '%s' of %s is a minimum and needs a number, but is '%s'",
          name, what, value);
    }
  }
}
