package build.hearth.core.worker;

import build.hearth.api.HearthException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Map;

/**
 * Finds the file that {@code arguments[0]} of a command names, as REAPI describes it: an absolute
 * path as it is, a relative path with a separator against the working directory, and a bare name
 * first against the working directory and then through the {@code PATH} of the action's own
 * environment. REAPI 2.0 to 2.2, the versions Hearth advertises, define the program as a path
 * relative to the working directory (or absolute) and search no {@code PATH}; Bazel's remote
 * repository rules rely on it, running an uploaded {@code cmd.sh} by that name. REAPI 2.3 added the
 * {@code PATH} search for bare names, which clients such as Bazel also rely on for {@code sh} and
 * the like. The JDK would search this JVM's {@code PATH} instead, which is why the runner resolves
 * the program itself and launches the absolute path.
 *
 * <p>Stateless.
 */
final class ProgramResolver {
  /**
   * The search path when the action sets no {@code PATH}: what POSIX {@code execvp} uses on glibc,
   * so {@code sh} or {@code echo} still run.
   */
  static final String DEFAULT_PATH = "/bin:/usr/bin";

  private ProgramResolver() {}

  /**
   * The absolute path of the program.
   *
   * @throws HearthException INVALID_ARGUMENT if {@code program} is empty or not a path;
   *     FAILED_PRECONDITION if no executable file of that name exists where it is looked for
   */
  static Path resolve(String program, Map<String, String> environment, Path workingDirectory) {
    if (program.isEmpty()) {
      throw HearthException.invalidArgument("the command's program (arguments[0]) is empty");
    }
    try {
      if (program.indexOf('/') >= 0) {
        Path path = workingDirectory.resolve(program);
        if (isExecutableFile(path)) {
          return path;
        }
        throw HearthException.failedPrecondition(
            "cannot run program '%s': %s",
            program,
            Files.exists(path)
                ? "it is not an executable file"
                : Path.of(program).isAbsolute()
                    ? "no such file on the worker"
                    : "no such file in the input tree, relative to the working directory");
      }
      // REAPI 2.0-2.2: a path relative to the working directory, even without a separator.
      Path relative = workingDirectory.resolve(program);
      if (isExecutableFile(relative)) {
        return relative;
      }
      String searchPath = environment.getOrDefault("PATH", DEFAULT_PATH);
      for (String entry : searchPath.split(":", -1)) {
        // An empty entry means the current directory, as for execvp.
        Path candidate = workingDirectory.resolve(entry).resolve(program);
        if (isExecutableFile(candidate)) {
          return candidate;
        }
      }
      throw HearthException.failedPrecondition(
          "cannot run program '%s': %s, and not found in %s '%s'; give its path or set PATH in"
              + " the command's environment",
          program,
          Files.exists(relative)
              ? "the file of that name in the working directory is not an executable file"
              : "no such file in the input tree, relative to the working directory",
          environment.containsKey("PATH")
              ? "the action's PATH"
              : "the default PATH (the action sets none)",
          searchPath);
    } catch (InvalidPathException e) {
      throw HearthException.invalidArgument(
          "the command's program '%s' is not a valid path: %s", program, e.getMessage());
    }
  }

  private static boolean isExecutableFile(Path path) {
    return Files.isRegularFile(path) && Files.isExecutable(path);
  }
}
