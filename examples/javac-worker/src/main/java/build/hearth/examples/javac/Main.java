package build.hearth.examples.javac;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;

/**
 * A javac persistent worker: compiles Java sources into a deterministic jar with the JDK's own
 * compiler, either once per process or, as a persistent worker, for many requests per process.
 *
 * <pre>
 * java -jar javac-worker.jar @FLAGFILE                          compile once, exit with the status
 * java -jar javac-worker.jar [--protocol=proto|json] --persistent_worker
 *                                                               serve WorkRequests on stdin/stdout
 * </pre>
 *
 * The flag file (or a request's arguments) holds one argument per line: {@code --output X.jar},
 * then any number of {@code --classpath X.jar}, {@code --source X.java} and {@code --javacopt
 * OPTION}. {@code --protocol} chooses the persistent worker's encoding (default {@code proto}) and
 * is ignored when compiling once, so a build rule may pass it either way.
 *
 * <p>Exit status, of a one-shot run or in a response: 0 compiled (warnings, if any, are in the
 * output), 1 compile errors, 2 a bad argument, 3 an internal error such as a jar that cannot be
 * written. A persistent worker exits with 0 when its input ends after every request was answered,
 * with 2 for a bad startup argument, and with 3 when its input is not a request in its protocol.
 *
 * <p>In persistent mode stdout carries nothing but responses: whatever else in the JVM prints to
 * {@code System.out} (an annotation processor, say) goes to stderr, which Bazel keeps in the
 * worker's log file.
 */
public final class Main {
  private static final String PERSISTENT_WORKER = "--persistent_worker";
  private static final String PROTOCOL = "--protocol=";
  private static final String USAGE =
      "usage: java -jar javac-worker.jar @FLAGFILE\n"
          + "       java -jar javac-worker.jar [--protocol=proto|json] --persistent_worker\n"
          + "FLAGFILE lines: --output X.jar, then --classpath X.jar, --source X.java,"
          + " --javacopt OPTION (repeatable)";

  private Main() {}

  /** Runs the worker and exits with its status. */
  public static void main(String[] args) {
    // The file descriptor itself rather than System.out, whose PrintStream would swallow a
    // failed write (the client gone) instead of reporting it.
    OutputStream stdout = new FileOutputStream(FileDescriptor.out);
    if (Arrays.asList(args).contains(PERSISTENT_WORKER)) {
      System.setOut(System.err);
    }
    int status = run(Arrays.asList(args), System.in, stdout, System.err);
    System.exit(status);
  }

  /** {@link #main} without the process: the streams are given and the status is returned. */
  static int run(List<String> args, InputStream in, OutputStream out, PrintStream err) {
    return run(args, in, out, err, Runtime.getRuntime().availableProcessors(), Javac::new);
  }

  static int run(
      List<String> args,
      InputStream in,
      OutputStream out,
      PrintStream err,
      int threads,
      Supplier<Javac> javacFactory) {
    boolean persistent = false;
    String protocol = "proto";
    List<String> rest = new ArrayList<>();
    for (String arg : args) {
      if (arg.equals(PERSISTENT_WORKER)) {
        persistent = true;
      } else if (arg.startsWith(PROTOCOL)) {
        protocol = arg.substring(PROTOCOL.length());
        if (!protocol.equals("proto") && !protocol.equals("json")) {
          err.println("javac worker: " + arg + " is not a protocol; use --protocol=proto or json");
          return Javac.USAGE_ERROR;
        }
      } else {
        rest.add(arg);
      }
    }
    try {
      if (persistent) {
        return serve(protocol, rest, in, out, err, threads, javacFactory.get());
      }
      return compileOnce(rest, err, javacFactory.get());
    } catch (IllegalStateException e) {
      err.println("javac worker: " + e.getMessage());
      return Javac.INTERNAL_ERROR;
    }
  }

  private static int serve(
      String protocol,
      List<String> unexpected,
      InputStream in,
      OutputStream out,
      PrintStream err,
      int threads,
      Javac javac) {
    if (!unexpected.isEmpty()) {
      err.println(
          "javac worker: unexpected startup arguments "
              + unexpected
              + "; a persistent worker takes its work from requests\n"
              + USAGE);
      return Javac.USAGE_ERROR;
    }
    WorkerChannel channel = WorkerChannel.of(protocol, in, out);
    // One line for the worker's log, which is where its operator looks first.
    err.printf(
        "javac worker: serving %s requests on stdin with %d compile threads (java %s)%n",
        protocol, threads, Runtime.version());
    try {
      new WorkerServer(channel, javac, threads, err).serve();
      return Javac.OK;
    } catch (IOException e) {
      err.println("javac worker: stopping: " + e.getMessage());
      return Javac.INTERNAL_ERROR;
    }
  }

  private static int compileOnce(List<String> args, PrintStream err, Javac javac) {
    if (args.isEmpty()) {
      err.println(USAGE);
      return Javac.USAGE_ERROR;
    }
    try {
      CompileRequest request = CompileRequest.parse(args, Path.of(""));
      Javac.Outcome outcome = javac.compile(request, 0, () -> false);
      err.print(outcome.output());
      err.flush();
      return outcome.exitCode();
    } catch (CompileRequest.UsageException e) {
      err.println("javac worker: " + e.getMessage() + "\n" + USAGE);
      return Javac.USAGE_ERROR;
    }
  }
}
