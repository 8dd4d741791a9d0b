package build.hearth.examples.javac;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * What one compilation needs, read from a request's arguments (or a one-shot command line):
 *
 * <pre>
 * --output PATH.jar        the jar to write (required, once)
 * --classpath PATH         a jar to compile against (repeatable)
 * --source PATH.java       a file to compile (repeatable)
 * --javacopt OPTION        an option passed to javac as is (repeatable), e.g. -Xlint:all
 * &#64;FILE                    more arguments, one per line (Bazel's "multiline" params format)
 * </pre>
 *
 * Paths are resolved against a base directory: the request's {@code sandbox_dir} when it has one,
 * else the working directory. Immutable.
 */
record CompileRequest(
    Path output, List<Path> classpath, List<Path> sources, List<String> javacOptions) {

  /** javac options that would fight the worker's own handling of outputs and inputs. */
  private static final Set<String> RESERVED_JAVAC_OPTIONS =
      Set.of("-d", "-cp", "-classpath", "--class-path", "-sourcepath", "--source-path");

  CompileRequest {
    classpath = List.copyOf(classpath);
    sources = List.copyOf(sources);
    javacOptions = List.copyOf(javacOptions);
  }

  /**
   * Parses {@code arguments}, expanding {@code @file} arguments first.
   *
   * @throws UsageException naming the offending argument, for anything but a well-formed request
   *     whose sources and classpath jars exist
   */
  static CompileRequest parse(List<String> arguments, Path base) {
    List<String> expanded = new ArrayList<>();
    expandFlagFiles(arguments, base, expanded, 0);

    Path output = null;
    List<Path> classpath = new ArrayList<>();
    List<Path> sources = new ArrayList<>();
    List<String> javacOptions = new ArrayList<>();
    for (int i = 0; i < expanded.size(); i++) {
      String flag = expanded.get(i);
      if (!flag.equals("--output")
          && !flag.equals("--classpath")
          && !flag.equals("--source")
          && !flag.equals("--javacopt")) {
        throw new UsageException(
            "unknown argument '"
                + flag
                + "'; expected --output, --classpath, --source or --javacopt, each followed by"
                + " its value");
      }
      if (i + 1 == expanded.size()) {
        throw new UsageException(flag + " needs a value");
      }
      String value = expanded.get(++i);
      switch (flag) {
        case "--output" -> {
          if (output != null) {
            throw new UsageException("--output is given twice: " + output + " and " + value);
          }
          output = base.resolve(value);
        }
        case "--classpath" -> classpath.add(existing(base.resolve(value), "classpath entry"));
        case "--source" -> sources.add(existing(base.resolve(value), "source file"));
        default -> {
          if (RESERVED_JAVAC_OPTIONS.contains(value)) {
            throw new UsageException(
                "--javacopt "
                    + value
                    + " is not allowed; the worker sets it from --output, --classpath and"
                    + " --source");
          }
          javacOptions.add(value);
        }
      }
    }
    if (output == null) {
      throw new UsageException("--output PATH.jar is required");
    }
    return new CompileRequest(output, classpath, sources, javacOptions);
  }

  /**
   * Replaces each {@code @file} with the file's lines, recursively; {@code @@x} stands for the
   * literal argument {@code @x}. Bazel expands flag files before it sends a request, but a one-shot
   * command line carries them unexpanded.
   */
  private static void expandFlagFiles(
      List<String> arguments, Path base, List<String> into, int depth) {
    if (depth > 10) {
      throw new UsageException("flag files nest more than 10 deep; is one including itself?");
    }
    for (String argument : arguments) {
      if (argument.startsWith("@@")) {
        into.add(argument.substring(1));
      } else if (argument.startsWith("@")) {
        Path file = base.resolve(argument.substring(1));
        List<String> lines;
        try {
          lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
          throw new UsageException("cannot read flag file " + file + ": " + e.getMessage());
        }
        expandFlagFiles(lines, base, into, depth + 1);
      } else {
        into.add(argument);
      }
    }
  }

  // Checked here rather than left to javac, which reports a missing jar only under -Xlint:path and
  // a missing source with a message that does not say which argument was wrong.
  private static Path existing(Path path, String what) {
    if (!Files.exists(path)) {
      throw new UsageException(what + " " + path + " does not exist");
    }
    return path;
  }

  /** A request the worker cannot make sense of; its message says which argument is wrong. */
  static final class UsageException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    UsageException(String message) {
      super(message);
    }
  }
}
