package build.hearth.core.execroot;

import build.hearth.api.HearthException;
import java.util.ArrayList;
import java.util.List;

/**
 * Lexical handling of the relative paths a {@code Command} names (its working directory and its
 * outputs): split into components, {@code .} dropped, {@code ..} applied, and refused if they are
 * absolute, malformed, or climb out of the exec root.
 */
final class RelativePaths {
  private RelativePaths() {}

  /**
   * The components, relative to the exec root, of {@code path} taken relative to {@code base}. The
   * empty path is {@code base} itself.
   *
   * @param what names the path in errors, such as {@code "output path 'a/b'"}
   * @throws HearthException INVALID_ARGUMENT if {@code path} is absolute, has an empty component or
   *     a NUL, or leaves the exec root
   */
  static List<String> resolve(List<String> base, String path, String what) {
    List<String> components = new ArrayList<>(base);
    if (path.isEmpty()) {
      return components;
    }
    if (path.startsWith("/")) {
      throw HearthException.invalidArgument("%s is absolute; it must be relative", what);
    }
    if (path.indexOf('\0') >= 0) {
      throw HearthException.invalidArgument("%s contains a NUL character", what);
    }
    for (String component : path.split("/", -1)) {
      if (component.isEmpty()) {
        throw HearthException.invalidArgument(
            "%s has an empty component (a doubled or trailing '/')", what);
      }
      if (component.equals(".")) {
        continue;
      }
      if (component.equals("..")) {
        if (components.isEmpty()) {
          throw HearthException.invalidArgument("%s climbs out of the exec root with '..'", what);
        }
        components.remove(components.size() - 1);
      } else {
        components.add(component);
      }
    }
    return components;
  }

  static String join(List<String> components) {
    return String.join("/", components);
  }
}
