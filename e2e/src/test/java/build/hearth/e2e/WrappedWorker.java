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
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A Hearth worker started the way the deployment example's README says: {@code ./worker-wrapper.sh
 * --scheduler-endpoint http://localhost:PORT --config worker.json}, with {@code HEARTH_LAUNCHER}
 * pointing at this build's Hearth. The wrapper runs the worker in namespaces of its own when the
 * kernel allows, so everything the worker reads (its configuration, the launcher) and its
 * directories are kept outside {@code /tmp}, which the worker does not share.
 *
 * <p>{@link #close()} stops the wrapper, the worker and whatever they left behind. Not thread-safe.
 */
final class WrappedWorker implements AutoCloseable {
  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(60);

  private final String name;
  private final Process wrapper;
  private final Path log;
  private final List<ProcessHandle> leftBehind = new ArrayList<>();

  private WrappedWorker(String name, Process wrapper, Path log) {
    this.name = name;
    this.wrapper = wrapper;
    this.log = log;
  }

  /**
   * Writes {@code configJson} to {@code directory/worker.json}, starts the wrapper with it against
   * {@code http://localhost:<schedulerPort>} and waits until the worker has registered.
   */
  static WrappedWorker start(
      String name, String configJson, Path directory, Path launcher, int schedulerPort) {
    try {
      Files.createDirectories(directory);
      Path config = directory.resolve("worker.json");
      Files.writeString(config, configJson, StandardCharsets.UTF_8);
      Path log = directory.resolve("wrapper.log");
      Process process =
          DeploymentExample.startWrapper(
              List.of(
                  "--scheduler-endpoint",
                  "http://localhost:" + schedulerPort,
                  "--config",
                  config.toString()),
              Map.of("HEARTH_LAUNCHER", launcher.toString()),
              log);
      WrappedWorker worker = new WrappedWorker(name, process, log);
      worker.awaitConnected();
      return worker;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start worker " + name, e);
    }
  }

  private void awaitConnected() {
    try {
      await()
          .alias("worker " + name + " to log '" + WorkerProcess.CONNECTED + "'")
          .atMost(CONNECT_TIMEOUT)
          .pollInterval(Duration.ofMillis(100))
          .until(
              () -> {
                if (!wrapper.isAlive()) {
                  fail(
                      "the wrapper of worker "
                          + name
                          + " exited with "
                          + wrapper.exitValue()
                          + " before the worker connected; its log "
                          + log
                          + ":\n"
                          + BazelResult.lastLines(readLog(), 40));
                }
                return readLog().contains(WorkerProcess.CONNECTED);
              });
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      fail(e.getMessage() + "; its log " + log + ":\n" + BazelResult.lastLines(readLog(), 40));
    }
  }

  /** What the wrapper and the worker have printed so far. */
  String readLog() {
    try {
      return Files.readString(log, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "(cannot read " + log + ": " + e + ")";
    }
  }

  /** Sends SIGTERM to the wrapper, as a service manager stopping the worker does. */
  void terminate() {
    Processes.signal(wrapper.pid(), "TERM");
  }

  /** Waits up to {@code limit} for the wrapper to exit and returns its status. */
  int awaitExit(Duration limit) {
    try {
      if (!wrapper.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
        return fail(
            "worker "
                + name
                + " still running "
                + limit.toSeconds()
                + " s after SIGTERM; its log:\n"
                + BazelResult.lastLines(readLog(), 40));
      }
      return wrapper.exitValue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Stops the wrapper and the worker (SIGKILL after 20 s) and any process they left behind. */
  @Override
  public void close() {
    Processes.stop(wrapper, Duration.ofSeconds(20), leftBehind);
  }

  @Override
  public String toString() {
    return "worker " + name + " (wrapper pid " + wrapper.pid() + ")";
  }
}
