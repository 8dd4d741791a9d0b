package build.hearth.examples.javac;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@link Main} in a JVM of its own, started from the test class path, so that its real stdin,
 * stdout and exit status are exercised. stderr goes to a file, quoted in failure messages.
 */
final class WorkerJvm implements AutoCloseable {
  private final Process process;
  private final Path stderr;

  private WorkerJvm(Process process, Path stderr) {
    this.process = process;
    this.stderr = stderr;
  }

  static WorkerJvm start(Path directory, String... args) {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(Main.class.getName());
    command.addAll(List.of(args));
    Path stderr = directory.resolve("worker-" + System.nanoTime() + ".stderr");
    try {
      Process process =
          new ProcessBuilder(command)
              .directory(directory.toFile())
              .redirectError(stderr.toFile())
              .redirectInput(ProcessBuilder.Redirect.PIPE)
              .start();
      return new WorkerJvm(process, stderr);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Runs {@code Main args} to the end with no input, and returns its exit status. */
  static int runOnce(Path directory, String... args) {
    try (WorkerJvm jvm = start(directory, args)) {
      jvm.process.getOutputStream().close();
      return jvm.waitFor();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  Process process() {
    return process;
  }

  String stderr() {
    try {
      return Files.readString(stderr, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "(cannot read " + stderr + ": " + e + ")";
    }
  }

  /** Waits for the process to exit; the test's timeout guards against one that does not. */
  int waitFor() {
    try {
      return process.waitFor();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  @Override
  public void close() {
    process.destroyForcibly();
    try {
      process.waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public String toString() {
    return "worker JVM " + process.pid() + " (stderr in " + stderr + ")";
  }
}
