package build.hearth.core.scheduler;

import java.math.BigDecimal;
import java.util.Collections;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The text of a {@link Requirements.Key} that names its queue in a shared scheduler state, and the
 * key read back from it, so that a server can tell which shared queues its workers meet. The text
 * is canonical (equal keys give equal texts: the maps are sorted) and readable in Redis's key
 * names: {@code OSFamily=linux;cpu_count>=4}, with {@code \}, {@code ;}, {@code =}, {@code >} and
 * {@code #} in names and values escaped by a backslash. The empty key is the empty text. Actions
 * for a persistent worker get a queue of their own per {@code persistentWorkerKey}, written after
 * an unescaped {@code #} ({@code OSFamily=linux#3f2a...}), so that a server can let the workers
 * that hold warm processes of that key claim them first; the key does not restrict which workers
 * may.
 */
final class QueueKeys {
  private QueueKeys() {}

  /**
   * {@return the canonical text of {@code key} and the persistent-worker key {@code warmKey}}
   *
   * @param key the requirements
   * @param warmKey the action's {@code persistentWorkerKey}, or empty
   */
  static String text(Requirements.Key key, String warmKey) {
    String text = text(key);
    return warmKey.isEmpty()
        ? text
        : escape(warmKey, new StringBuilder(text).append('#')).toString();
  }

  /**
   * {@return the persistent-worker key of a queue's text, or empty}
   *
   * @param text a queue's text
   */
  static String warmKey(String text) {
    int at = hash(text);
    if (at < 0) {
      return "";
    }
    StringBuilder key = new StringBuilder();
    unescapeUntil(text, at + 1, key, "");
    return key.toString();
  }

  /** The index of the first unescaped '#' in {@code text}, or -1. */
  private static int hash(String text) {
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '\\') {
        i++;
      } else if (c == '#') {
        return i;
      }
    }
    return -1;
  }

  /** {@return the canonical text of {@code key}} */
  static String text(Requirements.Key key) {
    StringBuilder text = new StringBuilder();
    key.exact()
        .forEach(
            (name, values) -> {
              for (String value : values) {
                separate(text);
                escape(name, text).append('=');
                escape(value, text);
              }
            });
    key.minimum()
        .forEach(
            (name, bound) -> {
              separate(text);
              escape(name, text).append(">=").append(bound.toPlainString());
            });
    return text.toString();
  }

  /**
   * {@return the key whose {@link #text} is {@code text}}
   *
   * @throws IllegalArgumentException if {@code text} is not such a text (another Hearth's version
   *     or a hand-made key): the caller skips that queue
   */
  static Requirements.Key parse(String text) {
    int at = hash(text);
    if (at >= 0) {
      text = text.substring(0, at);
    }
    SortedMap<String, Set<String>> exact = new TreeMap<>();
    SortedMap<String, BigDecimal> minimum = new TreeMap<>();
    int i = 0;
    while (i < text.length()) {
      StringBuilder name = new StringBuilder();
      i = unescapeUntil(text, i, name, "=>");
      if (i >= text.length()) {
        throw new IllegalArgumentException("no '=' or '>=' after '" + name + "' in '" + text + "'");
      }
      if (text.charAt(i) == '=') {
        StringBuilder value = new StringBuilder();
        i = unescapeUntil(text, i + 1, value, ";");
        exact.computeIfAbsent(name.toString(), n -> new TreeSet<>()).add(value.toString());
      } else {
        if (i + 1 >= text.length() || text.charAt(i + 1) != '=') {
          throw new IllegalArgumentException("'>' without '=' in '" + text + "'");
        }
        StringBuilder bound = new StringBuilder();
        i = unescapeUntil(text, i + 2, bound, ";");
        try {
          // As PropertyTypes.number reads them, so that the key read back equals the original.
          minimum.put(name.toString(), new BigDecimal(bound.toString()).stripTrailingZeros());
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException(
              "'" + bound + "' is not a number in '" + text + "'", e);
        }
      }
      if (i < text.length()) {
        i++; // the ';'
      }
    }
    exact.replaceAll((name, values) -> Collections.unmodifiableSet(values));
    return new Requirements.Key(
        Collections.unmodifiableSortedMap(exact), Collections.unmodifiableSortedMap(minimum));
  }

  private static void separate(StringBuilder text) {
    if (text.length() > 0) {
      text.append(';');
    }
  }

  private static StringBuilder escape(String s, StringBuilder text) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '\\' || c == ';' || c == '=' || c == '>' || c == '#') {
        text.append('\\');
      }
      text.append(c);
    }
    return text;
  }

  /** Reads {@code text} from {@code i} up to an unescaped stop character; returns its index. */
  private static int unescapeUntil(String text, int i, StringBuilder out, String stops) {
    while (i < text.length()) {
      char c = text.charAt(i);
      if (c == '\\') {
        if (i + 1 >= text.length()) {
          throw new IllegalArgumentException("a lone '\\' ends '" + text + "'");
        }
        out.append(text.charAt(i + 1));
        i += 2;
      } else if (stops.indexOf(c) >= 0) {
        return i;
      } else {
        out.append(c);
        i++;
      }
    }
    return i;
  }
}
