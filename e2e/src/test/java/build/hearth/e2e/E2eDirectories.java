package build.hearth.e2e;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Locates the module's build directory, where workspaces, Bazel state and logs are kept. */
final class E2eDirectories {
  private E2eDirectories() {}

  /**
   * The module's {@code target} directory, found from where the test classes were loaded so the
   * result does not depend on the working directory Maven or an IDE chose.
   */
  static Path target() {
    try {
      Path classes =
          Path.of(E2eDirectories.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      Path target = classes.getParent();
      if (target == null || !Files.isDirectory(target)) {
        throw new IllegalStateException("cannot find the build directory above " + classes);
      }
      return target;
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }
}
