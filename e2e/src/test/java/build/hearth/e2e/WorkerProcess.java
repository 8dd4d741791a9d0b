package build.hearth.e2e;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A Hearth worker in a process of its own, started the way a user starts one: {@code hearth worker
 * --scheduler-endpoint http://HOST:PORT --config worker.json}, here as {@code java -cp <the test
 * class path> build.hearth.server.Main worker ...}. Its output goes to {@code
 * target/worker-logs/<test class>/<worker>.log}.
 *
 * <p>{@link #close()} stops the worker and every process it left behind. Not thread-safe.
 */
final class WorkerProcess implements AutoCloseable {
  /** What the worker logs once the scheduler has accepted its registration. */
  static final String CONNECTED = "connected to scheduler";

  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(60);

  private final WorkerSetup setup;
  private final Process process;
  private final Path log;
  private final List<ProcessHandle> leftBehind = new ArrayList<>();

  private WorkerProcess(WorkerSetup setup, Process process, Path log) {
    this.setup = setup;
    this.process = process;
    this.log = log;
  }

  /**
   * Starts a worker described by {@code setup} that connects to the worker API on {@code
   * schedulerPort} of this machine, and waits until it has registered. Fails the test if it exits
   * or has not registered within a minute, quoting its log.
   */
  static WorkerProcess start(WorkerSetup setup, int schedulerPort, Class<?> testClass) {
    return start(setup, "http://127.0.0.1:" + schedulerPort, testClass);
  }

  /**
   * Starts a worker described by {@code setup} that connects to {@code endpoint} (what {@code
   * --scheduler-endpoint} takes), with {@code extraMembers} added to its configuration, and waits
   * until it has registered.
   */
  static WorkerProcess start(
      WorkerSetup setup, String endpoint, Class<?> testClass, String... extraMembers) {
    try {
      Files.createDirectories(setup.directory());
      Path config = setup.directory().resolve("worker.json");
      Files.writeString(config, setup.json(extraMembers), StandardCharsets.UTF_8);
      Path logDirectory =
          Files.createDirectories(
              E2eDirectories.target().resolve("worker-logs").resolve(testClass.getSimpleName()));
      Path log = logDirectory.resolve(setup.name() + ".log");
      List<String> command =
          List.of(
              Path.of(System.getProperty("java.home"), "bin", "java").toString(),
              "-Xmx256m",
              "-cp",
              testClassPath(),
              "build.hearth.server.Main",
              "worker",
              "--scheduler-endpoint",
              endpoint,
              "--config",
              config.toString());
      Process process = Processes.logging(command, log).start();
      WorkerProcess worker = new WorkerProcess(setup, process, log);
      worker.awaitConnected();
      return worker;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start worker " + setup.name(), e);
    }
  }

  /**
   * The class path of the running tests, which holds the server module and all it needs. Surefire
   * may run the tests from a jar whose manifest lists the real class path; it then offers the list
   * itself in a system property.
   */
  static String testClassPath() {
    String surefire = System.getProperty("surefire.test.class.path");
    return surefire != null && !surefire.isBlank()
        ? surefire
        : System.getProperty("java.class.path");
  }

  private void awaitConnected() {
    try {
      await()
          .alias("worker " + setup.name() + " to log '" + CONNECTED + "'")
          .atMost(CONNECT_TIMEOUT)
          .pollInterval(Duration.ofMillis(100))
          .until(
              () -> {
                if (!process.isAlive()) {
                  fail(
                      "worker "
                          + setup.name()
                          + " exited with "
                          + process.exitValue()
                          + " before it connected; its log "
                          + log
                          + ":\n"
                          + BazelResult.lastLines(readLog(), 40));
                }
                return readLog().contains(CONNECTED);
              });
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      fail(e.getMessage() + "; its log " + log + ":\n" + BazelResult.lastLines(readLog(), 40));
    }
  }

  /** What this worker was started with. */
  WorkerSetup setup() {
    return setup;
  }

  /** Everything the worker has logged so far. */
  String readLog() {
    try {
      return Files.readString(log, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "(cannot read " + log + ": " + e + ")";
    }
  }

  /** Whether the worker's JVM is running. */
  boolean isAlive() {
    return process.isAlive();
  }

  /**
   * Kills the worker's JVM with SIGKILL, as a crash or the OOM killer would: no shutdown hook runs
   * and nothing is said to the scheduler. Processes of actions it was running are orphaned and keep
   * running; {@link #close()} ends them.
   */
  void kill() {
    leftBehind.addAll(process.descendants().toList());
    process.destroyForcibly();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        fail("worker " + setup.name() + " survived SIGKILL for 10 s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Stops the worker (SIGTERM, then SIGKILL after 10 s) and any process it left behind. */
  @Override
  public void close() {
    Processes.stop(process, Duration.ofSeconds(10), leftBehind);
  }

  @Override
  public String toString() {
    return "worker " + setup.name() + " (pid " + process.pid() + ")";
  }
}
