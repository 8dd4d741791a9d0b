package build.hearth.server;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A JSON document read into maps, lists, strings, numbers, booleans and nulls, with lookups that
 * tolerate missing fields, so that the admin command keeps working against a server that adds
 * fields or leaves out ones it does not know.
 */
final class JsonTree {
  private static final JsonFactory FACTORY = new JsonFactory();

  private JsonTree() {}

  /**
   * Reads {@code json}, which must be one JSON object.
   *
   * @throws IOException with the parser's description of what is wrong and where
   */
  static Map<String, Object> readObject(byte[] json) throws IOException {
    try (JsonParser parser = FACTORY.createParser(json)) {
      if (parser.nextToken() != JsonToken.START_OBJECT) {
        throw new IOException("expected a JSON object, found " + describe(parser.currentToken()));
      }
      Object value = value(parser);
      if (parser.nextToken() != null) {
        throw new IOException("more than one JSON value in the answer");
      }
      return map(value);
    }
  }

  private static String describe(JsonToken token) {
    return token == null ? "nothing" : token.asString() == null ? token.name() : token.asString();
  }

  private static Object value(JsonParser parser) throws IOException {
    JsonToken token = parser.currentToken();
    switch (token) {
      case START_OBJECT -> {
        Map<String, Object> map = new LinkedHashMap<>();
        while (parser.nextToken() == JsonToken.FIELD_NAME) {
          String name = parser.currentName();
          parser.nextToken();
          map.put(name, value(parser));
        }
        return Collections.unmodifiableMap(map);
      }
      case START_ARRAY -> {
        List<Object> list = new ArrayList<>();
        while (parser.nextToken() != JsonToken.END_ARRAY) {
          list.add(value(parser));
        }
        return Collections.unmodifiableList(list);
      }
      case VALUE_STRING -> {
        return parser.getText();
      }
      case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> {
        return parser.getNumberValue();
      }
      case VALUE_TRUE, VALUE_FALSE -> {
        return parser.getBooleanValue();
      }
      case VALUE_NULL -> {
        return null;
      }
      default -> throw new IOException("unexpected " + token + " in the answer");
    }
  }

  /** {@code value} as an object; an empty one if it is not an object. */
  @SuppressWarnings("unchecked")
  static Map<String, Object> map(Object value) {
    return value instanceof Map<?, ?> map ? (Map<String, Object>) map : Map.of();
  }

  /** The object at {@code field}; empty if missing or not an object. */
  static Map<String, Object> object(Map<String, Object> from, String field) {
    return map(from.get(field));
  }

  /** The objects in the array at {@code field}; empty if missing. */
  static List<Map<String, Object>> objects(Map<String, Object> from, String field) {
    if (!(from.get(field) instanceof List<?> list)) {
      return List.of();
    }
    List<Map<String, Object>> objects = new ArrayList<>();
    for (Object element : list) {
      objects.add(map(element));
    }
    return objects;
  }

  /** The string at {@code field}, or {@code otherwise} if missing or null. */
  static String string(Map<String, Object> from, String field, String otherwise) {
    Object value = from.get(field);
    return value == null ? otherwise : String.valueOf(value);
  }

  /** The number at {@code field} as a long, or {@code otherwise} if missing or not a number. */
  static long number(Map<String, Object> from, String field, long otherwise) {
    return from.get(field) instanceof Number number ? number.longValue() : otherwise;
  }

  /** The number at {@code field}, or null if missing, null or not a number. */
  static Double decimal(Map<String, Object> from, String field) {
    return from.get(field) instanceof Number number ? number.doubleValue() : null;
  }

  /** Whether {@code field} is {@code true}. */
  static boolean flag(Map<String, Object> from, String field) {
    return Boolean.TRUE.equals(from.get(field));
  }
}
