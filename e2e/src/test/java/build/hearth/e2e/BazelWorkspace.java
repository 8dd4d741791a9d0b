package build.hearth.e2e;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * A fresh copy of a workspace template from the test resources ({@code /workspaces/<name>/}).
 *
 * <p>Every copy lives in its own new directory under {@code target/e2e-workspaces}, so Bazel gives
 * it its own output base and no build sees another's state. The copy is left in place after the
 * test for inspection; {@code mvn clean} removes it.
 *
 * <p>Not thread-safe: one test drives one workspace.
 */
final class BazelWorkspace {
  private final Path root;

  private BazelWorkspace(Path root) {
    this.root = root;
  }

  /**
   * Copies the template {@code name} into a new directory. Files ending in {@code .sh} are made
   * executable, because resource copying does not preserve permission bits and Bazel runs shell
   * scripts directly.
   */
  static BazelWorkspace fromTemplate(String name) {
    Path template = templateDirectory(name);
    try {
      Path parent = Files.createDirectories(E2eDirectories.target().resolve("e2e-workspaces"));
      Path root = Files.createTempDirectory(parent, name + "-");
      copy(template, root);
      return new BazelWorkspace(root);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot copy workspace template '" + name + "'", e);
    }
  }

  /**
   * Copies the directory {@code relativePath} of the template {@code name} to the same place in
   * this workspace, as {@link #fromTemplate} copies a whole template.
   */
  void copyFromTemplate(String name, String relativePath) {
    try {
      copy(templateDirectory(name).resolve(relativePath), root.resolve(relativePath));
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot copy " + relativePath + " of workspace template '" + name + "'", e);
    }
  }

  /** Copies the tree {@code from} to {@code to}, making {@code .sh} files executable. */
  private static void copy(Path from, Path to) throws IOException {
    List<Path> sources;
    try (Stream<Path> walk = Files.walk(from)) {
      sources = walk.toList();
    }
    for (Path source : sources) {
      Path target = to.resolve(from.relativize(source).toString());
      if (Files.isDirectory(source)) {
        Files.createDirectories(target);
      } else {
        Files.copy(source, target, StandardCopyOption.COPY_ATTRIBUTES);
        if (target.getFileName().toString().endsWith(".sh")) {
          makeExecutable(target);
        }
      }
    }
  }

  private static Path templateDirectory(String name) {
    String resource = "/workspaces/" + name;
    URL url = BazelWorkspace.class.getResource(resource);
    if (url == null) {
      fail("no workspace template " + resource + " in the test resources");
    }
    if (!"file".equals(url.getProtocol())) {
      fail("workspace template " + resource + " must be a directory on disk, found " + url);
    }
    try {
      Path path = Path.of(url.toURI());
      if (!Files.isRegularFile(path.resolve("WORKSPACE"))
          && !Files.isRegularFile(path.resolve("WORKSPACE.bazel"))) {
        fail("workspace template " + path + " has no WORKSPACE file");
      }
      return path;
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void makeExecutable(Path file) throws IOException {
    Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(file);
    permissions.add(PosixFilePermission.OWNER_EXECUTE);
    permissions.add(PosixFilePermission.GROUP_EXECUTE);
    permissions.add(PosixFilePermission.OTHERS_EXECUTE);
    Files.setPosixFilePermissions(file, permissions);
  }

  /** The workspace directory (where {@code WORKSPACE} is). */
  Path root() {
    return root;
  }

  /** Resolves a path relative to the workspace root. */
  Path resolve(String relativePath) {
    return root.resolve(relativePath);
  }

  /** Creates or replaces a file in the workspace, creating parent directories. */
  void writeFile(String relativePath, String content) {
    Path file = root.resolve(relativePath);
    try {
      Files.createDirectories(file.getParent());
      Files.writeString(file, content, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }

  /**
   * Replaces every occurrence of {@code placeholder} in a workspace file, for values only known at
   * run time (a port, the path of stub repositories). Fails if the placeholder is absent, so a
   * renamed placeholder cannot silently leave a template unfilled.
   */
  void substitute(String relativePath, String placeholder, String value) {
    Path file = root.resolve(relativePath);
    try {
      String content = Files.readString(file, StandardCharsets.UTF_8);
      if (!content.contains(placeholder)) {
        fail(file + " does not contain the placeholder " + placeholder);
      }
      Files.writeString(file, content.replace(placeholder, value), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot edit " + file, e);
    }
  }

  @Override
  public String toString() {
    return root.toString();
  }
}
