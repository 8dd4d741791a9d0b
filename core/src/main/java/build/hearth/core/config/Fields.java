package build.hearth.core.config;

import build.hearth.api.ConfigException;
import build.hearth.core.config.Node.ArrayNode;
import build.hearth.core.config.Node.ObjectNode;
import build.hearth.core.config.Node.ValueNode;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The fields of one JSON object whose shape Hearth knows. Creating it rejects every field that is
 * not among the known ones, before anything is read, so that a misspelt field is reported as
 * unknown (with a suggestion) rather than as a missing required one.
 *
 * <p>Also home to the type checks that every binding step shares, so that all messages read the
 * same: "expected a string, found the number 5". Not thread-safe; used by one binding.
 */
final class Fields {
  private final ObjectNode object;
  private final List<String> known;

  private Fields(ObjectNode object, List<String> known) {
    this.object = object;
    this.known = known;
  }

  /**
   * The fields of {@code node}, which must be an object with no fields but {@code known}.
   *
   * @param expected what the object is, for the type error: "a server object"
   */
  static Fields of(Node node, String expected, String... known) {
    ObjectNode object = object(node, expected);
    List<String> knownList = List.of(known);
    for (Map.Entry<String, Node> member : object.members().entrySet()) {
      if (!knownList.contains(member.getKey())) {
        throw unknownField(member.getValue(), member.getKey(), knownList);
      }
    }
    return new Fields(object, knownList);
  }

  String path() {
    return object.path();
  }

  int line() {
    return object.line();
  }

  /** The field, if present. */
  Optional<Node> optional(String key) {
    checkKnown(key);
    return Optional.ofNullable(object.members().get(key));
  }

  /** The field, which must be present; {@code hint} says what it is for, in the error. */
  Node required(String key, String hint) {
    return optional(key).orElseThrow(() -> missing(key, hint));
  }

  Optional<String> string(String key) {
    return optional(key).map(Fields::string);
  }

  String requireString(String key, String hint) {
    return string(required(key, hint));
  }

  Optional<Boolean> bool(String key) {
    return optional(key).map(Fields::bool);
  }

  /**
   * An error for a required field that is absent. The path is the field's own, and the line is its
   * object's, since the field has no line of its own.
   */
  ConfigException missing(String key, String hint) {
    return new ConfigException(
        ConfigPaths.member(object.path(), key),
        object.line(),
        "missing required field " + ConfigPaths.display(key) + "; " + hint);
  }

  private void checkKnown(String key) {
    if (!known.contains(key)) {
      throw new IllegalArgumentException(key + " is not among the declared fields " + known);
    }
  }

  static ObjectNode object(Node node, String expected) {
    if (node instanceof ObjectNode object) {
      return object;
    }
    throw wrongType(node, expected);
  }

  static ArrayNode array(Node node, String expected) {
    if (node instanceof ArrayNode array) {
      return array;
    }
    throw wrongType(node, expected);
  }

  static String string(Node node) {
    if (node instanceof ValueNode v && v.value() instanceof String s) {
      return s;
    }
    throw wrongType(node, "a string");
  }

  static boolean bool(Node node) {
    if (node instanceof ValueNode v && v.value() instanceof Boolean b) {
      return b;
    }
    throw wrongType(node, "true or false");
  }

  static ConfigException wrongType(Node node, String expected) {
    return new ConfigException(
        node.path(), node.line(), "expected " + expected + ", found " + node.describe());
  }

  static ConfigException invalid(Node node, String problem) {
    return new ConfigException(node.path(), node.line(), problem);
  }

  private static ConfigException unknownField(Node node, String key, List<String> known) {
    StringBuilder problem = new StringBuilder("unknown field ").append(ConfigPaths.display(key));
    String suggestion = closest(key, known);
    if (suggestion != null) {
      problem.append("; did you mean ").append(ConfigPaths.display(suggestion)).append("? Known");
    } else {
      problem.append("; known");
    }
    problem.append(" fields here: ").append(String.join(", ", known));
    return new ConfigException(node.path(), node.line(), problem.toString());
  }

  /**
   * The known name a typo most likely meant: same letters in another case, or at most two edits
   * away; null if none is that close.
   */
  static String closest(String key, Collection<String> known) {
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    for (String candidate : known) {
      int distance =
          candidate.toLowerCase(Locale.ROOT).equals(key.toLowerCase(Locale.ROOT))
              ? 0
              : editDistance(key, candidate);
      if (distance < bestDistance) {
        best = candidate;
        bestDistance = distance;
      }
    }
    return bestDistance <= 2 ? best : null;
  }

  private static int editDistance(String a, String b) {
    int[] previous = new int[b.length() + 1];
    int[] current = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      previous[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      current[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
        current[j] = Math.min(substitution, Math.min(previous[j], current[j - 1]) + 1);
      }
      int[] swap = previous;
      previous = current;
      current = swap;
    }
    return previous[b.length()];
  }
}
