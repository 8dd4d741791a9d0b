package build.hearth.core.config;

/**
 * The notation of JSON paths in error messages: dotted member names from the root, {@code [i]} for
 * array elements, and member names in double quotes when they are empty or hold anything but
 * letters, digits, {@code _} and {@code -} (so {@code servers[0].instances."".cas} and {@code
 * blobStores."team.cache"} cannot be misread). The root is the empty string.
 */
final class ConfigPaths {
  private ConfigPaths() {}

  static String member(String parent, String key) {
    String segment = segment(key);
    return parent.isEmpty() ? segment : parent + "." + segment;
  }

  /** A key as it appears in a path: bare when plain, quoted otherwise. */
  static String segment(String key) {
    return isPlain(key) ? key : quote(key);
  }

  static String element(String parent, int index) {
    return parent + "[" + index + "]";
  }

  /**
   * A key as the user would write it in a message: {@code 'cas'}, or quoted like a path when odd.
   */
  static String display(String key) {
    return isPlain(key) ? "'" + key + "'" : quote(key);
  }

  private static boolean isPlain(String key) {
    if (key.isEmpty()) {
      return false;
    }
    for (int i = 0; i < key.length(); i++) {
      char c = key.charAt(i);
      boolean plain =
          (c >= 'a' && c <= 'z')
              || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9')
              || c == '_'
              || c == '-';
      if (!plain) {
        return false;
      }
    }
    return true;
  }

  static String quote(String text) {
    StringBuilder sb = new StringBuilder(text.length() + 2).append('"');
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        default -> {
          if (c < 0x20) {
            sb.append(String.format(java.util.Locale.ROOT, "\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    return sb.append('"').toString();
  }
}
