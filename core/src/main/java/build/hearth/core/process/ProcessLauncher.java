package build.hearth.core.process;

import java.io.File;
import java.io.IOException;
import java.lang.ProcessBuilder.Redirect;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Starts a process. The caller decides everything about the process (the resolved program, the
 * exact environment, the directory, where its standard streams go) and this only starts it, so that
 * tests can observe or refuse launches and embedders can wrap commands (in a sandbox, say) without
 * reimplementing what runs actions or tool processes. The same hook starts an action's fresh
 * process (no input, output to files) and a persistent worker's tool process (requests and
 * responses over pipes, stderr to a log file).
 *
 * <pre>{@code
 * ProcessLauncher sandboxed = request -> {
 *   List<String> wrapped = new ArrayList<>(List.of("/usr/bin/sandbox", "--"));
 *   wrapped.addAll(request.arguments());
 *   return ProcessLauncher.system().launch(request.withArguments(wrapped));
 * };
 * }</pre>
 *
 * <p>A launcher may change the command line (prefix it with a wrapper, say) but must start the
 * process with the request's environment, directory and redirects: a tool process is spoken to
 * through the pipes the request asks for.
 *
 * <p>Implementations are thread-safe: processes are launched from as many threads as run actions or
 * start tool processes.
 */
@FunctionalInterface
public interface ProcessLauncher {

  /**
   * Starts {@code request} and returns the running process. The caller owns the process: it kills
   * it and all its descendants on timeout, cancellation or shutdown, through {@link
   * Process#toHandle()}.
   *
   * @throws IOException if the process cannot be started (no such program, not executable, no such
   *     directory, a redirect's file not writable)
   * @throws IllegalArgumentException if the request cannot be expressed to the operating system,
   *     such as an environment variable name with {@code =}
   */
  Process launch(Request request) throws IOException;

  /**
   * The launcher of the JDK: {@link ProcessBuilder}, with exactly the request's environment (none
   * of this JVM's) and its redirects. Stateless.
   */
  static ProcessLauncher system() {
    return SystemProcessLauncher.INSTANCE;
  }

  /**
   * One process to start. Immutable.
   *
   * @param arguments the command line; the first is the program as an absolute path, already
   *     resolved against the working directory or the {@code PATH} of the environment
   * @param environment exactly the variables the process gets; copied and unmodifiable
   * @param workingDirectory an absolute, existing directory
   * @param stdin where standard input comes from: {@link #NO_INPUT}, or {@link Redirect#PIPE} for a
   *     process the caller writes to
   * @param stdout where standard output goes: a file it is appended to, or {@link Redirect#PIPE}
   *     for a process the caller reads from
   * @param stderr where standard error goes, likewise
   */
  record Request(
      List<String> arguments,
      Map<String, String> environment,
      Path workingDirectory,
      Redirect stdin,
      Redirect stdout,
      Redirect stderr) {

    /**
     * Standard input that ends at once: {@code /dev/null}, or a pipe closed right after the start
     * on a machine without one.
     */
    public static final Redirect NO_INPUT = Redirect.from(new File("/dev/null"));

    public Request {
      arguments = List.copyOf(arguments);
      environment = Map.copyOf(environment);
      Objects.requireNonNull(workingDirectory, "workingDirectory");
      Objects.requireNonNull(stdin, "stdin");
      Objects.requireNonNull(stdout, "stdout");
      Objects.requireNonNull(stderr, "stderr");
      if (arguments.isEmpty()) {
        throw new IllegalArgumentException("a process needs at least a program");
      }
    }

    /**
     * An action's process: no input, standard output and error appended to {@code stdout} and
     * {@code stderr}.
     */
    public static Request toFiles(
        List<String> arguments,
        Map<String, String> environment,
        Path workingDirectory,
        Path stdout,
        Path stderr) {
      return new Request(
          arguments,
          environment,
          workingDirectory,
          NO_INPUT,
          Redirect.appendTo(stdout.toFile()),
          Redirect.appendTo(stderr.toFile()));
    }

    /**
     * A process spoken to over pipes, as a tool process is: standard input and output are pipes of
     * the caller's, standard error is appended to {@code stderrLog}.
     */
    public static Request piped(
        List<String> arguments,
        Map<String, String> environment,
        Path workingDirectory,
        Path stderrLog) {
      return new Request(
          arguments,
          environment,
          workingDirectory,
          Redirect.PIPE,
          Redirect.PIPE,
          Redirect.appendTo(stderrLog.toFile()));
    }

    /** This request with another command line, for a launcher that wraps the command. */
    public Request withArguments(List<String> arguments) {
      return new Request(arguments, environment, workingDirectory, stdin, stdout, stderr);
    }
  }
}
