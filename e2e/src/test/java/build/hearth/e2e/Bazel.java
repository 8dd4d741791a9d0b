package build.hearth.e2e;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The real {@code bazel} client, run as a process in one {@link BazelWorkspace}.
 *
 * <p>Every command gets the same startup options, so all commands of one instance talk to one Bazel
 * server, and {@link #close()} always stops that server:
 *
 * <ul>
 *   <li>{@code --output_user_root=target/bazel-root}, shared by every test class: Bazel keys the
 *       output base on the workspace path, so workspaces stay apart, while anything Bazel unpacks
 *       per user root (an install base, the repository cache) is unpacked once per {@code mvn
 *       clean}. The Debian package pins its install base to {@code /usr/share/bazel}, so there
 *       nothing is extracted at all.
 *   <li>{@code --server_javabase=<the test JVM>}: the Debian client otherwise picks a JVM from
 *       {@code JAVA_HOME} or {@code PATH}, which differs between shells, Maven and IDEs; the JVM
 *       running the tests is a known-good Java 17 or newer.
 *   <li>{@code --nohome_rc}: a developer's {@code ~/.bazelrc} must not change what the tests see.
 *       The system rc stays: it is where Debian sets the install base.
 *   <li>{@code --max_idle_secs=30}: a server orphaned by a killed test JVM goes away on its own.
 * </ul>
 *
 * Commands that take build options also get:
 *
 * <ul>
 *   <li>{@code --nosandbox_debug}: Debian's {@code /etc/bazel/bazelrc} turns sandbox debugging on,
 *       which keeps every sandbox directory on disk.
 *   <li>{@code --incompatible_strict_action_env}: actions see a fixed {@code PATH} instead of the
 *       test JVM's, so action keys, and with them cache hits, do not depend on who runs the test.
 *   <li>{@code --color=no --curses=no --verbose_failures}: plain, complete logs.
 * </ul>
 *
 * The default spawn strategy is kept: the linux-sandbox works in this container even as root, and
 * it checks that actions declare all their inputs, which remote execution relies on. The process
 * summary names whichever local strategy ran ({@code linux-sandbox}, or {@code
 * processwrapper-sandbox} where namespaces are unavailable), and {@link ProcessSummary} treats them
 * all as local.
 *
 * <p>Each command's stdout and stderr are saved under {@code target/bazel-logs/<test
 * class>/<workspace>/}, and every command has a timeout after which the client is killed and the
 * test fails.
 *
 * <p>Not thread-safe: one test drives one instance.
 */
final class Bazel implements AutoCloseable {
  /** Generous for the small workspaces used here, yet well inside Surefire's fork timeout. */
  static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(3);

  private static final String INSTALL_HINT = "apt-get install -y bazel-bootstrap";

  /** Commands that inherit the options of {@code bazel build} and so accept the build flags. */
  private static final Set<String> BUILD_LIKE_COMMANDS =
      Set.of("build", "test", "run", "coverage", "clean", "info", "cquery", "aquery");

  private static final List<String> BUILD_FLAGS =
      List.of(
          "--nosandbox_debug",
          "--incompatible_strict_action_env",
          "--color=no",
          "--curses=no",
          "--verbose_failures");

  private static final List<String> OTHER_COMMAND_FLAGS = List.of("--color=no", "--curses=no");

  private final Path binary;
  private final BazelWorkspace workspace;
  private final List<String> startupOptions;
  private final Path logDirectory;
  private final Duration timeout;
  private int commandCount;
  private Running current;
  private boolean closed;

  private Bazel(BazelWorkspace workspace, Path logDirectory, Duration timeout) {
    this.binary = findBinary();
    this.workspace = workspace;
    this.logDirectory = logDirectory;
    this.timeout = timeout;
    Path outputUserRoot = E2eDirectories.target().resolve("bazel-root");
    this.startupOptions =
        List.of(
            "--output_user_root=" + outputUserRoot,
            "--server_javabase=" + System.getProperty("java.home"),
            "--nohome_rc",
            "--max_idle_secs=30");
  }

  /**
   * A client for {@code workspace} whose logs are filed under {@code testClass}, with {@link
   * #DEFAULT_TIMEOUT} per command. Fails the test if {@code bazel} is not on {@code PATH}.
   */
  static Bazel open(BazelWorkspace workspace, Class<?> testClass) {
    return open(workspace, testClass, DEFAULT_TIMEOUT);
  }

  /** As {@link #open(BazelWorkspace, Class)}, with a different per-command timeout. */
  static Bazel open(BazelWorkspace workspace, Class<?> testClass, Duration timeout) {
    Path logDirectory =
        E2eDirectories.target()
            .resolve("bazel-logs")
            .resolve(testClass.getSimpleName())
            .resolve(workspace.root().getFileName().toString());
    try {
      Files.createDirectories(logDirectory);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new Bazel(workspace, logDirectory, timeout);
  }

  private static Path findBinary() {
    String path = System.getenv("PATH");
    if (path != null) {
      for (String directory : path.split(File.pathSeparator)) {
        if (directory.isEmpty()) {
          continue;
        }
        Path candidate = Path.of(directory, "bazel");
        if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
          return candidate;
        }
      }
    }
    return fail(
        "The end-to-end tests need the real Bazel client, but `bazel` is not on PATH ("
            + path
            + "). Install Bazel 4.2.3 with: "
            + INSTALL_HINT);
  }

  /** The workspace this client builds. */
  BazelWorkspace workspace() {
    return workspace;
  }

  /** {@code bazel build <args>}; fails the test unless it succeeds. */
  BazelResult build(String... args) {
    return run("build", args).assertSuccess();
  }

  /** {@code bazel test <args>}; fails the test unless it succeeds. */
  BazelResult test(String... args) {
    return run("test", args).assertSuccess();
  }

  /** {@code bazel clean} (not {@code --expunge}): drops outputs and the local action cache. */
  BazelResult clean() {
    return run("clean").assertSuccess();
  }

  /** {@code bazel info <key>}, trimmed. */
  String info(String key) {
    return run("info", key).assertSuccess().stdout().trim();
  }

  /**
   * The workspace's {@code bazel-bin} convenience symlink, which points into the output base. Fails
   * if it does not exist (no build has run yet).
   */
  Path bazelBin() {
    Path link = workspace.resolve("bazel-bin");
    if (!Files.isDirectory(link)) {
      fail("no bazel-bin in " + workspace + "; has a build run?");
    }
    return link;
  }

  /**
   * Runs {@code bazel <command> <args>} and returns what happened, whatever the exit code. Fails
   * the test if the command outlives the timeout.
   */
  BazelResult run(String command, String... args) {
    return start(command, args).await();
  }

  /**
   * Starts {@code bazel <command> <args>} and returns at once, so that the test can act while the
   * command runs (interrupt it, kill a worker). Only one command runs at a time; finish it with
   * {@link Running#await()} before the next.
   */
  Running start(String command, String... args) {
    if (closed) {
      throw new IllegalStateException("this Bazel client is closed");
    }
    if (current != null && current.isAlive()) {
      throw new IllegalStateException("bazel " + current.command + " is still running");
    }
    return launch(command, Arrays.asList(args), timeout);
  }

  private Running launch(String command, List<String> args, Duration limit) {
    List<String> commandLine = new ArrayList<>();
    commandLine.add(binary.toString());
    commandLine.addAll(startupOptions);
    commandLine.add(command);
    commandLine.addAll(BUILD_LIKE_COMMANDS.contains(command) ? BUILD_FLAGS : OTHER_COMMAND_FLAGS);
    commandLine.addAll(args);

    String prefix = String.format("%02d-%s", ++commandCount, command);
    Path stdoutFile = logDirectory.resolve(prefix + ".stdout.log");
    Path stderrFile = logDirectory.resolve(prefix + ".stderr.log");
    ProcessBuilder builder =
        new ProcessBuilder(commandLine)
            .directory(workspace.root().toFile())
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
            .redirectOutput(stdoutFile.toFile())
            .redirectError(stderrFile.toFile());
    long started = System.nanoTime();
    try {
      Process process = builder.start();
      current =
          new Running(
              command, commandLine, prefix, process, stdoutFile, stderrFile, limit, started);
      return current;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot run " + binary, e);
    }
  }

  /** A {@code bazel} command that was started and may still be running. Not thread-safe. */
  final class Running {
    private final String command;
    private final List<String> commandLine;
    private final String prefix;
    private final Process process;
    private final Path stdoutFile;
    private final Path stderrFile;
    private final Duration limit;
    private final long startedNanos;

    private Running(
        String command,
        List<String> commandLine,
        String prefix,
        Process process,
        Path stdoutFile,
        Path stderrFile,
        Duration limit,
        long startedNanos) {
      this.command = command;
      this.commandLine = commandLine;
      this.prefix = prefix;
      this.process = process;
      this.stdoutFile = stdoutFile;
      this.stderrFile = stderrFile;
      this.limit = limit;
      this.startedNanos = startedNanos;
    }

    /** Whether the client process is still running. */
    boolean isAlive() {
      return process.isAlive();
    }

    /**
     * Sends SIGINT to the client, as Ctrl-C in a terminal does: the client asks its server to
     * cancel the command, which cancels the remote executions in flight.
     */
    void interrupt() {
      Processes.signal(process.pid(), "INT");
    }

    /**
     * Waits for the command to end and returns what happened, whatever the exit code. Fails the
     * test, killing the client, if the command outlives the timeout counted from its start.
     */
    BazelResult await() {
      long remainingNanos = limit.toNanos() - (System.nanoTime() - startedNanos);
      int exitCode;
      try {
        if (!process.waitFor(Math.max(0, remainingNanos), TimeUnit.NANOSECONDS)) {
          kill(process);
          record(prefix, commandLine, "timed out after " + limit.toSeconds() + " s", startedNanos);
          return fail(
              "bazel "
                  + command
                  + " did not finish within "
                  + limit.toSeconds()
                  + " s; killed it. Log: "
                  + stderrFile
                  + "\n--- last lines ---\n"
                  + BazelResult.lastLines(readQuietly(stderrFile), 40));
        }
        exitCode = process.exitValue();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for bazel " + command, e);
      }
      Duration elapsed = Duration.ofNanos(System.nanoTime() - startedNanos);
      record(prefix, commandLine, "exit " + exitCode, startedNanos);
      return new BazelResult(
          commandLine,
          exitCode,
          readQuietly(stdoutFile),
          readQuietly(stderrFile),
          stderrFile,
          elapsed);
    }
  }

  private static void kill(Process process) throws InterruptedException {
    // The client's own children only; the server is detached and is stopped by close().
    process.descendants().forEach(ProcessHandle::destroyForcibly);
    process.destroyForcibly();
    process.waitFor(10, TimeUnit.SECONDS);
  }

  private void record(String prefix, List<String> commandLine, String outcome, long startedNanos) {
    long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startedNanos);
    String line =
        String.format(
            "%s: %s -> %s in %.1f s%n",
            prefix, String.join(" ", commandLine), outcome, millis / 1000.0);
    try {
      Files.writeString(
          logDirectory.resolve("commands.log"),
          line,
          StandardCharsets.UTF_8,
          StandardOpenOption.CREATE,
          StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String readQuietly(Path file) {
    try {
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "(cannot read " + file + ": " + e + ")";
    }
  }

  /**
   * Kills a command still running, deletes this workspace's output base ({@code clean --expunge},
   * which keeps the disk use of repeated runs flat) and then always runs {@code bazel shutdown}, so
   * no server outlives the test. The workspace and the logs stay for inspection.
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    Duration limit = Duration.ofMinutes(2);
    if (current != null && current.isAlive()) {
      // A test that failed while a command ran; the server would make clean wait for it.
      try {
        kill(current.process);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    try {
      launch("clean", List.of("--expunge"), limit).await().assertSuccess();
    } finally {
      launch("shutdown", List.of(), limit).await().assertSuccess();
    }
  }
}
