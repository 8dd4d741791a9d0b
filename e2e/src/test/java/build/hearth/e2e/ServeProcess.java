package build.hearth.e2e;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A {@code hearth serve CONFIG} in a process of its own ({@code java -cp <the tests' class path>
 * build.hearth.server.Main serve CONFIG}), so that a test can kill it with SIGKILL as a crash
 * would. Its output goes to a log file of its own.
 */
final class ServeProcess implements AutoCloseable {
  private final Process process;
  private final Path log;

  private ServeProcess(Process process, Path log) {
    this.process = process;
    this.log = log;
  }

  /** Starts the server and returns once its log says it listens. */
  static ServeProcess start(Path config, Path log) {
    List<String> command =
        List.of(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-Xmx512m",
            "-cp",
            WorkerProcess.testClassPath(),
            "build.hearth.server.Main",
            "serve",
            config.toString());
    Process process = Processes.start(Processes.logging(command, log));
    Processes.awaitLogLine(process, log, "listening on");
    return new ServeProcess(process, log);
  }

  /** Kills the server with SIGKILL: no shutdown hook runs. Returns once it is gone. */
  void kill() {
    Processes.signal(process.pid(), "KILL");
    try {
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        throw new IllegalStateException("the server survived SIGKILL for 30 s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Everything the server logged. */
  String log() {
    try {
      return Files.readString(log, StandardCharsets.UTF_8);
    } catch (java.io.IOException e) {
      return "(cannot read " + log + ": " + e + ")";
    }
  }

  @Override
  public void close() {
    if (process.isAlive()) {
      Processes.stop(process, Duration.ofSeconds(10), new ArrayList<>());
    }
  }
}
