package build.hearth.examples.javac;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

/** Writes small Java sources and reads back jars, for the worker's tests. */
final class Sources {
  private Sources() {}

  /**
   * Writes {@code content} at {@code root/relative}, creating directories, and returns the path.
   */
  static Path write(Path root, String relative, String content) {
    Path file = root.resolve(relative);
    try {
      Files.createDirectories(file.getParent());
      Files.writeString(file, content, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return file;
  }

  /** A public class {@code pkg.Name} with a method {@code int value()} returning {@code value}. */
  static Path simpleClass(Path root, String pkg, String name, int value) {
    return write(
        root,
        "src/" + pkg + "/" + name + ".java",
        "package "
            + pkg
            + ";\n\npublic final class "
            + name
            + " {\n  public static int value() {\n    return "
            + value
            + ";\n  }\n}\n");
  }

  /** The arguments of a request compiling {@code sources} against {@code classpath}. */
  static List<String> arguments(Path output, List<Path> classpath, Path... sources) {
    List<String> arguments = new ArrayList<>(List.of("--output", output.toString()));
    for (Path jar : classpath) {
      arguments.add("--classpath");
      arguments.add(jar.toString());
    }
    for (Path source : sources) {
      arguments.add("--source");
      arguments.add(source.toString());
    }
    return arguments;
  }

  /** The names of a jar's entries, in file order. */
  static List<String> entryNames(Path jar) {
    try (JarFile file = new JarFile(jar.toFile())) {
      return file.stream().map(JarEntry::getName).toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Every entry of a jar with its content, decoded as ISO-8859-1 so any bytes survive. */
  static TreeMap<String, String> entryContents(Path jar) {
    TreeMap<String, String> contents = new TreeMap<>();
    try (JarFile file = new JarFile(jar.toFile())) {
      for (JarEntry entry : file.stream().toList()) {
        try (InputStream in = file.getInputStream(entry)) {
          contents.put(entry.getName(), new String(in.readAllBytes(), StandardCharsets.ISO_8859_1));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return contents;
  }

  /** Every entry of a jar with its time, for checking that all times are the same. */
  static TreeMap<String, Long> entryTimes(Path jar) {
    TreeMap<String, Long> times = new TreeMap<>();
    try (JarFile file = new JarFile(jar.toFile())) {
      file.stream().forEach(entry -> times.put(entry.getName(), entry.getTime()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return times;
  }
}
