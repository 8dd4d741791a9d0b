package build.hearth.core.execroot;

import java.util.Comparator;

/** The order REAPI prescribes for entry names: by Unicode code point, which is UTF-8 byte order. */
final class Names {
  static final Comparator<String> ORDER = Names::compare;

  private Names() {}

  static int compare(String a, String b) {
    int i = 0;
    int j = 0;
    while (i < a.length() && j < b.length()) {
      int ca = a.codePointAt(i);
      int cb = b.codePointAt(j);
      if (ca != cb) {
        return Integer.compare(ca, cb);
      }
      i += Character.charCount(ca);
      j += Character.charCount(cb);
    }
    return Boolean.compare(i < a.length(), j < b.length());
  }

  /** {@code 'path'} for messages, or {@code the root} for the empty path. */
  static String show(String path) {
    return path.isEmpty() ? "the root" : "'" + path + "'";
  }

  static String join(String parent, String name) {
    return parent.isEmpty() ? name : parent + "/" + name;
  }
}
