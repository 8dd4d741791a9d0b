package build.hearth.benchmarks;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A {@code hearth serve CONFIG} in a process of its own, started as a user starts it ({@code java
 * [jvm options] -cp <this JVM's class path> build.hearth.server.Main serve CONFIG}), so that it can
 * be killed with SIGKILL or given a heap of its own. Its output goes to a log file, appended to
 * across restarts. Not thread-safe: one driver thread starts, kills and stops it.
 */
final class ServerProcess implements AutoCloseable {
  private static final Pattern LISTENING =
      Pattern.compile("Hearth server '[^']*' listening on 127\\.0\\.0\\.1:(\\d+)");

  /** How long a server may take to open its stores and listen; far more than it needs. */
  private static final Duration START_TIMEOUT = Duration.ofSeconds(60);

  private final Path config;
  private final Path log;
  private final List<String> jvmOptions;
  private Process process;
  private int port;
  private long logOffset;

  private ServerProcess(Path config, Path log, List<String> jvmOptions) {
    this.config = config;
    this.log = log;
    this.jvmOptions = List.copyOf(jvmOptions);
  }

  /** Starts {@code hearth serve config} and returns once it listens; output into {@code log}. */
  static ServerProcess start(Path config, Path log, List<String> jvmOptions) {
    ServerProcess server = new ServerProcess(config, log, jvmOptions);
    server.start();
    return server;
  }

  /** Starts the server again (after {@link #kill()}), on a new port, and waits until it listens. */
  void start() {
    if (process != null && process.isAlive()) {
      throw new IllegalStateException("the server is still running (pid " + process.pid() + ")");
    }
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(jvmOptions);
    command.addAll(List.of("-cp", classPath(), "build.hearth.server.Main", "serve"));
    command.add(config.toString());
    try {
      logOffset = Files.exists(log) ? Files.size(log) : 0;
      process =
          new ProcessBuilder(command)
              .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
              .start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + command, e);
    }
    port = awaitPort();
  }

  private int awaitPort() {
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    while (System.nanoTime() < deadline) {
      Matcher listening = LISTENING.matcher(logSinceStart());
      if (listening.find()) {
        return Integer.parseInt(listening.group(1));
      }
      if (!process.isAlive()) {
        throw new IllegalStateException(
            "the server exited with "
                + process.exitValue()
                + " before it listened; its log "
                + log
                + ":\n"
                + tail(logSinceStart(), 40));
      }
      pause(Duration.ofMillis(50));
    }
    process.destroyForcibly();
    throw new IllegalStateException(
        "the server did not listen within " + START_TIMEOUT + "; its log " + log);
  }

  /**
   * The class path of this JVM, which holds the server module and all it needs. Surefire may run
   * tests from a jar whose manifest lists the real class path; it then offers the list itself.
   */
  static String classPath() {
    String surefire = System.getProperty("surefire.test.class.path");
    return surefire != null && !surefire.isBlank()
        ? surefire
        : System.getProperty("java.class.path");
  }

  /** The port the running server listens on (for gRPC and HTTP). */
  int port() {
    return port;
  }

  long pid() {
    return process.pid();
  }

  boolean isAlive() {
    return process.isAlive();
  }

  /**
   * Kills the server with SIGKILL, as a crash or the OOM killer would: no shutdown hook runs.
   * Returns once the process is gone.
   */
  void kill() {
    process.destroyForcibly();
    try {
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        throw new IllegalStateException("the server survived SIGKILL for 30 s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Everything the server logged, over all its starts. */
  String readLog() {
    try {
      return Files.readString(log, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "(cannot read " + log + ": " + e + ")";
    }
  }

  Path log() {
    return log;
  }

  private String logSinceStart() {
    String whole = readLog();
    return whole.length() > logOffset ? whole.substring((int) logOffset) : "";
  }

  /** The body of {@code GET /metrics} on the server's port. */
  String metrics() {
    HttpClient client =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10))
            .build();
    HttpRequest request =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
            .timeout(Duration.ofSeconds(30))
            .build();
    try {
      HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() != 200) {
        throw new IllegalStateException(
            "GET /metrics answered " + response.statusCode() + ": " + response.body());
      }
      return response.body();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot GET /metrics on port " + port, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /**
   * The sum of the samples of {@code metric} in a Prometheus text exposition whose labels contain
   * {@code label} (such as {@code store="cas"}); -1 if there is none.
   */
  static double metric(String exposition, String metric, String label) {
    double sum = 0;
    boolean found = false;
    for (String line : exposition.split("\n")) {
      if (line.startsWith(metric + "{") && line.contains(label)) {
        sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
        found = true;
      }
    }
    return found ? sum : -1;
  }

  /** Stops the server (SIGTERM, then SIGKILL after 20 s). */
  @Override
  public void close() {
    if (process == null || !process.isAlive()) {
      return;
    }
    process.destroy();
    try {
      if (!process.waitFor(20, TimeUnit.SECONDS)) {
        kill();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
  }

  static String tail(String text, int lines) {
    String[] all = text.split("\n");
    int from = Math.max(0, all.length - lines);
    return String.join("\n", java.util.Arrays.copyOfRange(all, from, all.length));
  }

  static void pause(Duration duration) {
    try {
      Thread.sleep(duration.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
