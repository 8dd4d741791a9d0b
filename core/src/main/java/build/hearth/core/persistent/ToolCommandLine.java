package build.hearth.core.persistent;

import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.StreamSupport;

/**
 * An action's command line split the way Bazel's worker strategy splits it: what starts the
 * persistent process, and what goes into each request.
 *
 * <p>Every argument that matches {@code (?:@|--?flagfile=)(.+)}, wherever it stands, belongs to the
 * request; all the others, in order and followed by {@code --persistent_worker}, start the process.
 * For {@code javac -jar tools/Builder.jar @a.params --flagfile=b.params} that is the startup
 * command {@code [javac, -jar, tools/Builder.jar, --persistent_worker]} and the flag-file arguments
 * {@code [@a.params, --flagfile=b.params]}.
 *
 * <p>{@link #requestArguments(Path)} expands the flag files as Bazel's {@code WorkerSpawnRunner}
 * does, so that a tool sees the same request remotely as it does locally:
 *
 * <ul>
 *   <li>{@code @file} is replaced by the lines of {@code file}, each expanded again in turn;
 *   <li>{@code @@text} is passed on unchanged: it is an escaped literal, and the tool, not Bazel,
 *       removes the escape (unescaping here as well would make the tool read {@code @text} as a
 *       file);
 *   <li>{@code @repo//pkg:label} and {@code @//pkg} (an {@code @} argument containing {@code //})
 *       are labels, passed on unchanged;
 *   <li>{@code --flagfile=file} and {@code -flagfile=file} are passed on unchanged: Bazel leaves
 *       them for the tool to read, as it does not want to expand them.
 * </ul>
 *
 * <p>Unlike Bazel, which reads any path, expansion only reads files inside the given directory, and
 * it refuses cycles and nesting deeper than {@value #MAX_DEPTH}.
 *
 * <p>Immutable and thread-safe.
 */
public final class ToolCommandLine {
  /** The flag Bazel appends to start a tool as a persistent worker. */
  public static final String PERSISTENT_WORKER_FLAG = "--persistent_worker";

  /** How deeply flag files may include each other. */
  public static final int MAX_DEPTH = 16;

  private static final Pattern FLAG_FILE = Pattern.compile("(?:@|--?flagfile=)(.+)");

  private final List<String> startupArguments;
  private final List<String> flagFiles;

  private ToolCommandLine(List<String> startupArguments, List<String> flagFiles) {
    this.startupArguments = List.copyOf(startupArguments);
    this.flagFiles = List.copyOf(flagFiles);
  }

  /**
   * Splits {@code arguments} (an action's {@code Command.arguments}, unchanged).
   *
   * @return empty if no argument is a flag file, or nothing but flag files is left to start: such
   *     an action runs as an ordinary process
   */
  public static Optional<ToolCommandLine> split(List<String> arguments) {
    List<String> startup = new ArrayList<>();
    List<String> flagFiles = new ArrayList<>();
    for (String argument : arguments) {
      Objects.requireNonNull(argument, "argument");
      (isFlagFile(argument) ? flagFiles : startup).add(argument);
    }
    if (flagFiles.isEmpty() || startup.isEmpty()) {
      return Optional.empty();
    }
    startup.add(PERSISTENT_WORKER_FLAG);
    return Optional.of(new ToolCommandLine(startup, flagFiles));
  }

  /** Whether Bazel would take {@code argument} out of the startup command. */
  static boolean isFlagFile(String argument) {
    return FLAG_FILE.matcher(argument).matches();
  }

  /** The command that starts the process: the other arguments, {@code --persistent_worker} last. */
  public List<String> startupArguments() {
    return startupArguments;
  }

  /** The arguments that go to each request, unexpanded, in their order on the command line. */
  public List<String> flagFiles() {
    return flagFiles;
  }

  /**
   * The arguments of the request: the flag files expanded from {@code directory} (the directory the
   * action's input tree is materialized in), as described above.
   *
   * @throws HearthException INVALID_ARGUMENT if a flag file does not exist, is not a regular file
   *     or not UTF-8, lies outside {@code directory} (an absolute path, {@code ..}, or a symbolic
   *     link leading out), includes itself, or nests deeper than {@value #MAX_DEPTH}; INTERNAL if a
   *     file cannot be read for another reason
   */
  public List<String> requestArguments(Path directory) {
    Path root;
    try {
      root = directory.toRealPath();
    } catch (IOException e) {
      throw new HearthException(
          StatusCode.INTERNAL, "cannot expand flag files in " + directory + ": " + e, e);
    }
    List<String> out = new ArrayList<>();
    Deque<String> chain = new ArrayDeque<>();
    for (String argument : flagFiles) {
      expand(root, argument, chain, out);
    }
    return Collections.unmodifiableList(out);
  }

  private static void expand(Path root, String argument, Deque<String> chain, List<String> out) {
    if (!argument.startsWith("@")
        || argument.startsWith("@@")
        || argument.length() == 1
        || isLabel(argument)) {
      out.add(argument);
      return;
    }
    String name = argument.substring(1);
    Path file = resolveInside(root, name, chain);
    String key = root.relativize(file).toString();
    if (chain.contains(key)) {
      throw HearthException.invalidArgument(
          "flag files include each other in a cycle: %s -> %s", describe(chain), name);
    }
    if (chain.size() >= MAX_DEPTH) {
      throw HearthException.invalidArgument(
          "flag files nest more than %d deep: %s -> %s", MAX_DEPTH, describe(chain), name);
    }
    List<String> lines;
    try {
      lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (CharacterCodingException e) {
      throw HearthException.invalidArgument(
          "flag file '%s'%s is not valid UTF-8", name, from(chain));
    } catch (IOException e) {
      throw new HearthException(
          StatusCode.INTERNAL, "cannot read flag file '" + name + "'" + from(chain) + ": " + e, e);
    }
    chain.addLast(key);
    for (String line : lines) {
      expand(root, line, chain, out);
    }
    chain.removeLast();
  }

  /** The real path of flag file {@code name}, which must be a regular file inside {@code root}. */
  private static Path resolveInside(Path root, String name, Deque<String> chain) {
    Path relative;
    try {
      relative = Path.of(name);
    } catch (InvalidPathException e) {
      throw HearthException.invalidArgument(
          "flag file '%s'%s is not a valid path: %s", name, from(chain), e.getReason());
    }
    if (relative.isAbsolute()) {
      throw HearthException.invalidArgument(
          "flag file '%s'%s is an absolute path; a remote action can only name files of its input"
              + " tree, relative to its working directory",
          name, from(chain));
    }
    Path file = root.resolve(relative).normalize();
    if (!file.startsWith(root)) {
      throw HearthException.invalidArgument(
          "flag file '%s'%s lies outside the action's input tree", name, from(chain));
    }
    Path real;
    try {
      real = file.toRealPath();
    } catch (NoSuchFileException e) {
      throw HearthException.invalidArgument(
          "flag file '%s'%s does not exist; it must be one of the action's inputs",
          name, from(chain));
    } catch (IOException e) {
      throw new HearthException(
          StatusCode.INTERNAL,
          "cannot resolve flag file '" + name + "'" + from(chain) + ": " + e,
          e);
    }
    if (!real.startsWith(root)) {
      throw HearthException.invalidArgument(
          "flag file '%s'%s is a symbolic link leading outside the action's input tree",
          name, from(chain));
    }
    if (!Files.isRegularFile(real, LinkOption.NOFOLLOW_LINKS)) {
      throw HearthException.invalidArgument(
          "flag file '%s'%s is not a regular file", name, from(chain));
    }
    return real;
  }

  /** Bazel's test for an external repository label: an {@code @} argument with {@code //}. */
  private static boolean isLabel(String argument) {
    return argument.indexOf("//", 1) >= 0;
  }

  private static String from(Deque<String> chain) {
    return chain.isEmpty() ? "" : " (included from " + describe(chain) + ")";
  }

  private static String describe(Deque<String> chain) {
    return String.join(" -> ", chain);
  }

  /**
   * The startup arguments that look like relative paths of files, such as the program {@code
   * external/jdk/bin/java} or {@code tools/Builder.jar}; the parts of a {@code :}-separated class
   * path count one by one. Options, absolute paths and paths leading out with {@code ..} do not.
   * Some candidates are not files at all: the caller keeps those present in the input tree.
   */
  public Set<String> toolFileCandidates() {
    Set<String> candidates = new LinkedHashSet<>();
    for (String argument : startupArguments.subList(0, startupArguments.size() - 1)) {
      if (argument.startsWith("-") || argument.startsWith("@")) {
        continue;
      }
      for (String part : argument.split(":", -1)) {
        relativeFile(part).ifPresent(candidates::add);
      }
    }
    return Collections.unmodifiableSet(candidates);
  }

  private static Optional<String> relativeFile(String text) {
    if (text.isEmpty() || text.startsWith("-") || text.indexOf('=') >= 0) {
      return Optional.empty();
    }
    Path path;
    try {
      path = Path.of(text);
    } catch (InvalidPathException e) {
      return Optional.empty();
    }
    if (path.isAbsolute()) {
      return Optional.empty();
    }
    Path normal = path.normalize();
    if (normal.toString().isEmpty() || normal.startsWith("..")) {
      return Optional.empty();
    }
    return Optional.of(
        StreamSupport.stream(normal.spliterator(), false)
            .map(Path::toString)
            .collect(Collectors.joining("/")));
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof ToolCommandLine that
        && startupArguments.equals(that.startupArguments)
        && flagFiles.equals(that.flagFiles);
  }

  @Override
  public int hashCode() {
    return Objects.hash(startupArguments, flagFiles);
  }

  @Override
  public String toString() {
    return "ToolCommandLine{startup=" + startupArguments + ", flagFiles=" + flagFiles + "}";
  }
}
