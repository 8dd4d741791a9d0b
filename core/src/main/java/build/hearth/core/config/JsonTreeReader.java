package build.hearth.core.config;

import build.hearth.api.ConfigException;
import build.hearth.core.config.Node.ArrayNode;
import build.hearth.core.config.Node.ObjectNode;
import build.hearth.core.config.Node.ValueNode;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a configuration document into a {@link Node} tree with Jackson's streaming parser. It
 * accepts {@code //} and {@code /* *}{@code /} comments and trailing commas, because people comment
 * their configuration and move lines around; it rejects duplicate keys itself (instead of letting
 * the last one win silently) and turns every syntax error into a {@link ConfigException} with the
 * line, the column and the path of the value being read.
 *
 * <p>One instance reads one document; not thread-safe.
 */
final class JsonTreeReader {
  // Immutable once built and safe to share; it holds no per-document state.
  private static final JsonFactory FACTORY =
      JsonFactory.builder()
          .enable(JsonReadFeature.ALLOW_JAVA_COMMENTS)
          .enable(JsonReadFeature.ALLOW_TRAILING_COMMA)
          .build();

  /** What an empty {@link HearthConfig} document is told it should hold. */
  static final String CONFIG_HINT = "a configuration is a JSON object such as {\"servers\": [...]}";

  private final String sourceName;
  private final String emptyHint;
  // The path of the value being read, so a syntax error can say where in the document it is.
  private String at = "";

  private JsonTreeReader(String sourceName, String emptyHint) {
    this.sourceName = sourceName;
    this.emptyHint = emptyHint;
  }

  /**
   * Reads {@code text}, which must hold exactly one JSON object.
   *
   * @param sourceName the file name or another label, used in syntax errors
   */
  static ObjectNode read(String text, String sourceName) {
    return read(text, sourceName, CONFIG_HINT);
  }

  /**
   * Reads {@code text} as {@link #read(String, String)} does.
   *
   * @param emptyHint what the document should hold, for the error about an empty one
   */
  static ObjectNode read(String text, String sourceName, String emptyHint) {
    return new JsonTreeReader(sourceName, emptyHint).readDocument(text);
  }

  private ObjectNode readDocument(String text) {
    try (JsonParser parser = FACTORY.createParser(text)) {
      JsonToken first = parser.nextToken();
      if (first == null) {
        throw new ConfigException("", 1, sourceName + " is empty; " + emptyHint);
      }
      Node root = readValue(parser, "", parser.currentTokenLocation().getLineNr());
      if (!(root instanceof ObjectNode object)) {
        throw new ConfigException(
            "",
            root.line(),
            "expected a JSON object at the top of " + sourceName + ", found " + root.describe());
      }
      at = "";
      if (parser.nextToken() != null) {
        JsonLocation where = parser.currentTokenLocation();
        throw new ConfigException(
            "",
            where.getLineNr(),
            "unexpected content after the end of the top-level object at line "
                + where.getLineNr()
                + ", column "
                + where.getColumnNr()
                + " of "
                + sourceName);
      }
      return object;
    } catch (JsonProcessingException e) {
      throw syntaxError(e);
    } catch (IOException e) {
      // A String source does no I/O; this is only a Jackson failure of some other kind.
      throw new ConfigException(at, 0, "cannot read " + sourceName + ": " + e.getMessage());
    }
  }

  /**
   * Reads the value at the current token, leaving the parser on its last token. A member of an
   * object gets the line of its key, which is where a reader looks for the field, even when the
   * value starts on a later line.
   */
  private Node readValue(JsonParser parser, String path, int line) throws IOException {
    at = path;
    JsonToken token = parser.currentToken();
    switch (token) {
      case START_OBJECT:
        return readObject(parser, path, line);
      case START_ARRAY:
        return readArray(parser, path, line);
      case VALUE_STRING:
        return new ValueNode(path, line, parser.getText(), parser.getText());
      case VALUE_TRUE:
        return new ValueNode(path, line, Boolean.TRUE, "true");
      case VALUE_FALSE:
        return new ValueNode(path, line, Boolean.FALSE, "false");
      case VALUE_NULL:
        return new ValueNode(path, line, null, "null");
      case VALUE_NUMBER_INT:
        return readInteger(parser, path, line);
      case VALUE_NUMBER_FLOAT:
        return new ValueNode(path, line, parser.getDoubleValue(), parser.getText());
      default:
        // Only reachable with parser features this reader does not enable.
        throw new ConfigException(path, line, "unexpected " + token + " in " + sourceName);
    }
  }

  private Node readInteger(JsonParser parser, String path, int line) throws IOException {
    JsonParser.NumberType type = parser.getNumberType();
    if (type == JsonParser.NumberType.BIG_INTEGER) {
      throw new ConfigException(
          path,
          line,
          "the number " + parser.getText() + " is too large; whole numbers must fit in 64 bits");
    }
    return new ValueNode(path, line, parser.getLongValue(), parser.getText());
  }

  private ObjectNode readObject(JsonParser parser, String path, int line) throws IOException {
    Map<String, Node> members = new LinkedHashMap<>();
    while (true) {
      at = path;
      JsonToken token = parser.nextToken();
      if (token == JsonToken.END_OBJECT) {
        break;
      }
      // The parser only yields FIELD_NAME or END_OBJECT inside an object, or throws.
      String key = parser.currentName();
      String memberPath = ConfigPaths.member(path, key);
      int keyLine = parser.currentTokenLocation().getLineNr();
      Node previous = members.get(key);
      if (previous != null) {
        throw new ConfigException(
            memberPath,
            keyLine,
            "duplicate field "
                + ConfigPaths.display(key)
                + "; it is already set at line "
                + previous.line()
                + ". Remove one of them.");
      }
      at = memberPath;
      parser.nextToken();
      members.put(key, readValue(parser, memberPath, keyLine));
    }
    return new ObjectNode(path, line, members);
  }

  private ArrayNode readArray(JsonParser parser, String path, int line) throws IOException {
    List<Node> elements = new ArrayList<>();
    while (true) {
      at = path;
      JsonToken token = parser.nextToken();
      if (token == JsonToken.END_ARRAY) {
        break;
      }
      String elementPath = ConfigPaths.element(path, elements.size());
      elements.add(readValue(parser, elementPath, parser.currentTokenLocation().getLineNr()));
    }
    return new ArrayNode(path, line, elements);
  }

  private ConfigException syntaxError(JsonProcessingException e) {
    JsonLocation where = e.getLocation();
    // Jackson names a bad character twice, as in "('}' (code 125))"; once is enough for people.
    String problem = e.getOriginalMessage().replaceAll(" \\((?:CTRL-CHAR, )?code \\d+\\)", "");
    if (where == null || where.getLineNr() <= 0) {
      return new ConfigException(at, 0, sourceName + " is not valid JSON: " + problem);
    }
    return new ConfigException(
        at,
        where.getLineNr(),
        sourceName
            + " is not valid JSON at line "
            + where.getLineNr()
            + ", column "
            + where.getColumnNr()
            + ": "
            + problem);
  }
}
