package build.hearth.core.config;

import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * A value of the configuration document that remembers where it came from, so that binding can
 * report any mistake with its path and line. A member of an object carries the line of its key,
 * because that is where a reader looks for the field; array elements and the root carry the line
 * where the value starts.
 */
sealed interface Node permits Node.ObjectNode, Node.ArrayNode, Node.ValueNode {

  /** The JSON path in {@link ConfigPaths} notation; empty for the root. */
  String path();

  /** The 1-based line. */
  int line();

  /** The value as a message says what was found: "an object", "the number 5", "null". */
  String describe();

  /** An object; members keep the order of the document, and keys are unique. */
  record ObjectNode(String path, int line, Map<String, Node> members) implements Node {
    public ObjectNode {
      members = Collections.unmodifiableMap(members);
    }

    @Override
    public String describe() {
      return "an object";
    }
  }

  /** An array. */
  record ArrayNode(String path, int line, List<Node> elements) implements Node {
    public ArrayNode {
      elements = List.copyOf(elements);
    }

    @Override
    public String describe() {
      return "an array";
    }
  }

  /**
   * A scalar: {@code value} is a {@code String}, {@code Long}, {@code Double}, {@code Boolean}, or
   * null for JSON {@code null}; {@code text} is the number as written, for messages.
   */
  record ValueNode(String path, int line, Object value, String text) implements Node {
    private static final int MAX_SHOWN = 60;

    @Override
    public String describe() {
      if (value == null) {
        return "null";
      }
      if (value instanceof String s) {
        String shown = s.length() > MAX_SHOWN ? s.substring(0, MAX_SHOWN) + "..." : s;
        return s.isEmpty() ? "an empty string" : "the string " + ConfigPaths.quote(shown);
      }
      if (value instanceof Boolean) {
        return value.toString();
      }
      return "the number " + text;
    }
  }
}
