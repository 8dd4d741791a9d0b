package build.hearth.core.worker;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Starts the process of an action. {@link LocalActionRunner} decides everything about the process
 * (the resolved program, the exact environment, the directory, where output goes) and this only
 * starts it, so that tests can observe or refuse launches and embedders can wrap commands (in a
 * sandbox, say) without reimplementing the runner.
 *
 * <p>Implementations are thread-safe: a runner launches from as many threads as it has slots.
 */
@FunctionalInterface
public interface ProcessLauncher {

  /**
   * Starts {@code request} and returns the running process. The runner kills the process and all
   * its descendants on timeout or cancellation, through {@link Process#toHandle()}.
   *
   * @throws IOException if the process cannot be started (the runner reports FAILED_PRECONDITION)
   * @throws IllegalArgumentException if the request cannot be expressed to the operating system,
   *     such as an environment variable name with {@code =} (the runner reports INVALID_ARGUMENT)
   */
  Process launch(Request request) throws IOException;

  /**
   * The launcher of the JDK: {@link ProcessBuilder}, with exactly the request's environment (none
   * of this JVM's), standard input from {@code /dev/null}, and standard output and error appended
   * to the request's files.
   */
  static ProcessLauncher system() {
    return SystemProcessLauncher.INSTANCE;
  }

  /**
   * One process to start.
   *
   * @param arguments the command line; the first is the program as an absolute path, already
   *     resolved against the working directory or the action's {@code PATH}
   * @param environment exactly the variables the process gets; copied and unmodifiable
   * @param workingDirectory an absolute, existing directory inside the exec root
   * @param stdout the file that receives standard output; exists and is empty
   * @param stderr the file that receives standard error; exists and is empty
   */
  record Request(
      List<String> arguments,
      Map<String, String> environment,
      Path workingDirectory,
      Path stdout,
      Path stderr) {
    public Request {
      arguments = List.copyOf(arguments);
      environment = Map.copyOf(environment);
      Objects.requireNonNull(workingDirectory, "workingDirectory");
      Objects.requireNonNull(stdout, "stdout");
      Objects.requireNonNull(stderr, "stderr");
      if (arguments.isEmpty()) {
        throw new IllegalArgumentException("a process needs at least a program");
      }
    }
  }
}
