package build.hearth.web;

import build.hearth.api.Digest;
import build.hearth.api.HearthException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A request for a page, parsed strictly from the hostile path and query: {@code
 * /ui/<kind>/<hash>/<size>} with a 64-digit lowercase hex hash and a decimal size, and a query of
 * at most {@value #MAX_QUERY_CHARS} characters with known names only, each percent-decoded as
 * UTF-8. Anything else is {@link BadRequest}, answered 400 with what was wrong.
 */
record PageRequest(String kind, Optional<Digest> digest, Map<String, String> query) {
  static final int MAX_QUERY_CHARS = 4096;
  static final List<String> QUERY_NAMES = List.of("instance", "name");

  /** A request that does not parse; its message says why, for the 400 page. */
  static final class BadRequest extends RuntimeException {
    private static final long serialVersionUID = 1L;

    BadRequest(String message) {
      super(message, null, false, false);
    }
  }

  String instance() {
    return query.getOrDefault("instance", "");
  }

  /**
   * Parses a path under {@link ActionLinks#PREFIX} and its raw query.
   *
   * @throws BadRequest if either is malformed
   */
  static PageRequest parse(String path, String rawQuery) {
    String rest = path.substring(ActionLinks.PREFIX.length());
    if (rest.isEmpty() || rest.equals("/")) {
      return new PageRequest("", Optional.empty(), query(rawQuery));
    }
    String[] parts = rest.substring(1).split("/", -1);
    if (parts.length != 3) {
      throw new BadRequest(
          "a page's path is " + ActionLinks.PREFIX + "/<kind>/<hash>/<size>, not " + cut(path));
    }
    Digest digest;
    try {
      if (!Digest.isValidHash(parts[1])) {
        throw new BadRequest(
            "'" + cut(parts[1]) + "' is not a SHA-256 hash: 64 lowercase hexadecimal digits");
      }
      digest = new Digest(parts[1], Digest.parseSize(parts[2]));
    } catch (HearthException e) {
      throw new BadRequest(e.getMessage());
    }
    return new PageRequest(parts[0], Optional.of(digest), query(rawQuery));
  }

  private static Map<String, String> query(String raw) {
    Map<String, String> values = new HashMap<>();
    if (raw == null || raw.isEmpty()) {
      return values;
    }
    if (raw.length() > MAX_QUERY_CHARS) {
      throw new BadRequest("the query is longer than " + MAX_QUERY_CHARS + " characters");
    }
    for (String pair : raw.split("&", -1)) {
      int eq = pair.indexOf('=');
      String name = eq < 0 ? pair : pair.substring(0, eq);
      String value = eq < 0 ? "" : decode(pair.substring(eq + 1));
      if (!QUERY_NAMES.contains(name)) {
        if (name.equals("refresh")) {
          continue; // the overview's auto-refresh switch, read by its script only
        }
        throw new BadRequest("unknown query parameter '" + cut(name) + "'; known: " + QUERY_NAMES);
      }
      if (values.put(name, value) != null) {
        throw new BadRequest("query parameter '" + name + "' is given twice");
      }
    }
    return values;
  }

  /** Percent-decoding as UTF-8 that refuses bad escapes and bad UTF-8 instead of guessing. */
  private static String decode(String text) {
    byte[] out = new byte[text.length()];
    int n = 0;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '%') {
        if (i + 2 >= text.length()) {
          throw new BadRequest("a '%' in the query is not followed by two hex digits");
        }
        int hi = Character.digit(text.charAt(i + 1), 16);
        int lo = Character.digit(text.charAt(i + 2), 16);
        if (hi < 0 || lo < 0) {
          throw new BadRequest("a '%' in the query is not followed by two hex digits");
        }
        out[n++] = (byte) (hi << 4 | lo);
        i += 2;
      } else if (c == '+') {
        out[n++] = ' ';
      } else if (c < 0x80) {
        out[n++] = (byte) c;
      } else {
        throw new BadRequest("the query has a character that is not percent-encoded");
      }
    }
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(java.nio.ByteBuffer.wrap(out, 0, n))
          .toString();
    } catch (CharacterCodingException e) {
      throw new BadRequest("the query is not UTF-8 once percent-decoded");
    }
  }

  /** At most 80 characters of hostile text, for messages. */
  static String cut(String text) {
    return text.length() <= 80 ? text : text.substring(0, 80) + "...";
  }
}
