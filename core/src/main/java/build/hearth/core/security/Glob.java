package build.hearth.core.security;

import java.util.regex.Pattern;

/**
 * A pattern where {@code *} matches any run of characters (also none, also {@code /}) and every
 * other character matches itself: {@code token:ci-*}, {@code team-a/*}. Immutable.
 */
record Glob(String text, Pattern pattern) {
  static Glob of(String text) {
    StringBuilder regex = new StringBuilder();
    int start = 0;
    for (int star = text.indexOf('*'); star >= 0; star = text.indexOf('*', start)) {
      regex.append(Pattern.quote(text.substring(start, star))).append(".*");
      start = star + 1;
    }
    regex.append(Pattern.quote(text.substring(start)));
    return new Glob(text, Pattern.compile(regex.toString(), Pattern.DOTALL));
  }

  boolean matches(String value) {
    return pattern.matcher(value).matches();
  }
}
