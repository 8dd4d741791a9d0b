package build.hearth.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import build.bazel.remote.execution.v2.CapabilitiesGrpc;
import build.bazel.remote.execution.v2.GetCapabilitiesRequest;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.core.ConditionTimeoutException;

/**
 * A Hearth server running as a separate JVM: {@code java -Xmx<heap> -cp <this JVM's class path>
 * build.hearth.server.Main serve <config>}, the way an operator starts it, so that its heap limit,
 * its signal handling and its exit code are real.
 *
 * <p>The process writes stdout and stderr to one log file under {@code target/hearth-processes/},
 * and every assertion this class makes quotes that log. {@link #start} learns the port from the
 * server's {@code "Hearth server '<name>' listening on <host>:<port>"} line, so configurations
 * listen on port 0 and no port is ever guessed, then waits until a Capabilities call succeeds.
 *
 * <p>{@link #stop()} is the graceful path that tests assert on: SIGTERM, then the process must exit
 * within 20 seconds, having logged "Hearth stopped". The exit code is 143 (128 + SIGTERM): {@code
 * Main} stops the server in a shutdown hook, and a JVM whose shutdown was started by a signal exits
 * with that signal's code even though {@code main} returns normally. 0 is accepted too, for a
 * server that handles the signal itself and exits on its own. {@link #close()} is only the safety
 * net for failed tests: it kills whatever is still running.
 *
 * <p>Not thread-safe; one test drives one instance.
 */
final class ServerProcess implements AutoCloseable {
  /** Exit code of a JVM that shut down because of SIGTERM. */
  static final int SIGTERM_EXIT_CODE = 128 + 15;

  private static final Pattern LISTENING =
      Pattern.compile("Hearth server '[^']*' listening on (\\S+):(\\d+)(?:\\s|$)");
  private static final Duration START_TIMEOUT = Duration.ofSeconds(30);
  private static final Duration STOP_TIMEOUT = Duration.ofSeconds(20);

  private final Process process;
  private final Path log;
  private final int port;
  private ManagedChannel channel;

  private ServerProcess(Process process, Path log, int port) {
    this.process = process;
    this.log = log;
    this.port = port;
  }

  /**
   * Starts {@code hearth serve config} with the given maximum heap (such as {@code "256m"}) and
   * returns once it answers a Capabilities call.
   *
   * @param label names the log file, {@code target/hearth-processes/<label>.log}
   */
  static ServerProcess start(String label, Path config, String maxHeap) {
    Path log = logFile(label);
    Process process = launch(log, List.of("-Xmx" + maxHeap), "serve", config.toString());
    ServerProcess server = null;
    try {
      server = new ServerProcess(process, log, awaitListeningPort(process, log));
      server.awaitServing();
      return server;
    } catch (RuntimeException | Error e) {
      if (server != null) {
        server.close(); // also closes the channel that awaitServing opened
      } else {
        process.destroyForcibly();
      }
      throw e;
    }
  }

  /**
   * Runs {@code hearth args...} to completion (at most 30 seconds) and returns its exit code and
   * everything it printed.
   */
  static Finished run(String label, String... args) throws InterruptedException {
    Path log = logFile(label);
    Process process = launch(log, List.of("-Xmx128m"), args);
    if (!process.waitFor(START_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor();
      throw new AssertionError(
          "hearth "
              + String.join(" ", args)
              + " did not finish within "
              + START_TIMEOUT
              + "; log "
              + log
              + ":\n"
              + read(log));
    }
    return new Finished(process.exitValue(), read(log));
  }

  /** What a finished {@code hearth} command returned and printed (stdout and stderr together). */
  record Finished(int exitCode, String output) {}

  /**
   * A configuration with one filesystem CAS ({@code <root>/cas}) and action cache ({@code
   * <root>/ac}) served by the default instance on {@code 127.0.0.1:0}.
   */
  static String filesystemConfig(Path root, String casMaxSize) {
    return """
    {
      "blobStores": {
        "cas": {"type": "filesystem", "path": %s, "maxSize": "%s"}
      },
      "actionCacheStores": {
        "ac": {"type": "filesystem", "path": %s}
      },
      "servers": [
        {"name": "test", "listen": "127.0.0.1:0",
         "instances": {"": {"cas": "cas", "actionCache": "ac"}}}
      ]
    }
    """
        .formatted(
            jsonString(root.resolve("cas").toString()),
            casMaxSize,
            jsonString(root.resolve("ac").toString()));
  }

  static Path writeConfig(Path file, String json) {
    try {
      return Files.writeString(file, json, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The port the server reported it listens on. */
  int port() {
    return port;
  }

  /** A plaintext channel to the server, created on first use and closed by {@link #stop()}. */
  ManagedChannel channel() {
    if (channel == null) {
      channel =
          ManagedChannelBuilder.forAddress("127.0.0.1", port)
              .usePlaintext()
              // ByteStream and batch responses are at most a few MiB; the default 4 MiB is tight.
              .maxInboundMessageSize(64 << 20)
              .build();
    }
    return channel;
  }

  boolean isAlive() {
    return process.isAlive();
  }

  /** Everything the process has written so far. */
  String log() {
    return read(log);
  }

  /** A description for assertion messages: the log file and its contents. */
  String describe() {
    return "server log " + log + ":\n" + log();
  }

  /**
   * Sends SIGTERM and asserts a clean shutdown: exit within 20 seconds, exit code 143 or 0, "Hearth
   * stopped" in the log and no error logged or printed. The client channel stays open until the
   * process is gone, as a build tool's would.
   */
  void stop() throws InterruptedException {
    assertThat(process.isAlive()).as("server alive before SIGTERM; %s", describe()).isTrue();
    process.destroy();
    boolean exited = process.waitFor(STOP_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    closeChannel();
    assertThat(exited)
        .as("server exited within %s of SIGTERM; %s", STOP_TIMEOUT, describe())
        .isTrue();
    assertThat(process.exitValue())
        .as("exit code after SIGTERM; %s", describe())
        .isIn(SIGTERM_EXIT_CODE, 0);
    // An exception escaping the shutdown hook is printed, not logged, so look for both forms.
    assertThat(log())
        .as("server log after SIGTERM (%s)", log)
        .contains("Hearth stopped")
        .doesNotContain(" ERROR ")
        .doesNotContain("Exception in thread");
  }

  /** Kills the process if a test failed before {@link #stop()}; a no-op after it. */
  @Override
  public void close() {
    try {
      if (process.isAlive()) {
        process.destroyForcibly().waitFor();
      }
      closeChannel();
    } catch (InterruptedException e) {
      // Cleanup after a failure; the interrupt is for whoever runs the test.
      Thread.currentThread().interrupt();
    }
  }

  private void closeChannel() throws InterruptedException {
    if (channel != null) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      channel = null;
    }
  }

  private static Process launch(Path log, List<String> jvmOptions, String... args) {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(jvmOptions);
    // A heap blow-up should end the server visibly, not leave it limping along.
    command.add("-XX:+ExitOnOutOfMemoryError");
    // Surefire sets java.class.path to the test class path even when it boots from a manifest jar.
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(Main.class.getName());
    command.addAll(List.of(args));
    ProcessBuilder builder =
        new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
    try {
      return builder.start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + command.get(0), e);
    }
  }

  private static int awaitListeningPort(Process process, Path log) {
    try {
      await("the server's 'listening on' log line")
          .atMost(START_TIMEOUT)
          .pollInterval(Duration.ofMillis(50))
          .until(() -> !process.isAlive() || LISTENING.matcher(read(log)).find());
    } catch (ConditionTimeoutException e) {
      throw new AssertionError(
          "no 'listening on' line within " + START_TIMEOUT + "; log " + log + ":\n" + read(log), e);
    }
    Matcher matcher = LISTENING.matcher(read(log));
    if (!matcher.find()) {
      throw new AssertionError(
          "server exited with code "
              + process.exitValue()
              + " before listening; log "
              + log
              + ":\n"
              + read(log));
    }
    return Integer.parseInt(matcher.group(2));
  }

  private void awaitServing() {
    try {
      await("a Capabilities call to succeed")
          .atMost(START_TIMEOUT)
          .pollInterval(Duration.ofMillis(100))
          .ignoreExceptionsInstanceOf(StatusRuntimeException.class)
          .until(
              () -> {
                if (!process.isAlive()) {
                  return true;
                }
                CapabilitiesGrpc.newBlockingStub(channel())
                    .withDeadlineAfter(5, TimeUnit.SECONDS)
                    .getCapabilities(GetCapabilitiesRequest.getDefaultInstance());
                return true;
              });
    } catch (ConditionTimeoutException e) {
      throw new AssertionError("server never answered Capabilities; " + describe(), e);
    }
    if (!process.isAlive()) {
      throw new AssertionError(
          "server exited with code "
              + process.exitValue()
              + " right after listening; "
              + describe());
    }
  }

  /**
   * Starts {@code hearth args...} in the background, such as {@code hearth worker}, with its output
   * in {@code target/hearth-processes/<label>.log}; the caller stops it.
   */
  static Process background(String label, String... args) {
    return launch(logFile(label), List.of("-Xmx256m"), args);
  }

  /** What a process started with {@code label} has printed so far. */
  static String output(String label) {
    return read(logFile(label));
  }

  private static Path logFile(String label) {
    Path dir = Path.of(System.getProperty("basedir", ".")).resolve("target/hearth-processes");
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return dir.resolve(label + ".log");
  }

  private static String read(Path log) {
    try {
      // Lenient decoding: a log cut mid-character must still be quotable in a failure message.
      return new String(Files.readAllBytes(log), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** {@code text} as a JSON string literal. */
  static String jsonString(String text) {
    return "\"" + text.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }
}
