package build.hearth.examples.javac;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Writes a directory of class files as a jar whose bytes depend only on the files' names and
 * contents: entries sorted by name, every timestamp the same fixed value, and a manifest without
 * dates or versions. Same classes, same jar, so build caches (Bazel's, Hearth's) hit on it.
 */
final class DeterministicJar {
  /**
   * A fixed DOS-format time. {@link ZipEntry#setTimeLocal} stores it without converting through the
   * time zone, so the bytes do not depend on the machine's zone either.
   */
  private static final LocalDateTime FIXED_TIME = LocalDateTime.of(2010, 1, 1, 0, 0);

  private static final byte[] MANIFEST =
      "Manifest-Version: 1.0\r\nCreated-By: hearth-javac-worker\r\n\r\n"
          .getBytes(StandardCharsets.UTF_8);

  private DeterministicJar() {}

  /** Writes every regular file under {@code classes} into {@code jar}, replacing it. */
  static void write(Path classes, Path jar) throws IOException {
    List<String> names;
    try (Stream<Path> walk = Files.walk(classes)) {
      names =
          walk.filter(Files::isRegularFile)
              .map(file -> classes.relativize(file).toString().replace('\\', '/'))
              .sorted()
              .toList();
    }
    Path parent = jar.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    try (OutputStream file = Files.newOutputStream(jar);
        ZipOutputStream zip = new ZipOutputStream(new BufferedOutputStream(file))) {
      put(zip, "META-INF/", null);
      put(zip, "META-INF/MANIFEST.MF", MANIFEST);
      for (String name : names) {
        put(zip, name, Files.readAllBytes(classes.resolve(name)));
      }
    }
  }

  private static void put(ZipOutputStream zip, String name, byte[] content) throws IOException {
    ZipEntry entry = new ZipEntry(name);
    entry.setTimeLocal(FIXED_TIME);
    zip.putNextEntry(entry);
    if (content != null) {
      zip.write(content);
    }
    zip.closeEntry();
  }
}
