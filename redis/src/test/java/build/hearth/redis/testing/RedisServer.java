package build.hearth.redis.testing;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real {@code redis-server} (Debian's) for a test: on a free port of 127.0.0.1, with its files in
 * a directory of its own, no persistence unless the test passes {@code --save} or {@code
 * --appendonly} itself, and killed by {@link #close()}. {@link #stop()} and {@link #start()} stop
 * and restart it on the same port, for tests of what a Redis outage does.
 *
 * <pre>{@code
 * @TempDir static Path dir;
 * static RedisServer redis;
 * @BeforeAll static void start() { redis = RedisServer.start(dir); }
 * @AfterAll static void stop() { redis.close(); }
 * ... "uri": redis.uri() ...
 * }</pre>
 *
 * <p>Published in hearth-redis's test-jar for the tests of other Redis-backed pieces. Not
 * thread-safe: one test drives it.
 */
public final class RedisServer implements AutoCloseable {
  private static final Duration STARTUP = Duration.ofSeconds(30);

  private final Path dir;
  private final int port;
  private final List<String> extraArgs;
  private final boolean tlsOnly;
  private final Path configFile;
  private Process process;

  private RedisServer(Path dir, int port, List<String> extraArgs, boolean tlsOnly) {
    this(dir, port, extraArgs, tlsOnly, null);
  }

  private RedisServer(
      Path dir, int port, List<String> extraArgs, boolean tlsOnly, Path configFile) {
    this.dir = dir;
    this.port = port;
    this.extraArgs = List.copyOf(extraArgs);
    this.tlsOnly = tlsOnly;
    this.configFile = configFile;
  }

  /**
   * Starts a Redis Sentinel (quorum 1) that monitors {@code master} under {@code masterName}.
   *
   * @param dir a directory for its files; Sentinel rewrites its configuration file there
   * @param masterName the name clients ask Sentinel for
   * @param master the Redis it monitors
   * @return the running sentinel; its {@link #uri()} is what a client's sentinel list names
   */
  public static RedisServer startSentinel(Path dir, String masterName, RedisServer master) {
    Path config;
    try {
      Files.createDirectories(dir);
      config =
          Files.writeString(
              dir.resolve("sentinel.conf"),
              "sentinel monitor " + masterName + " 127.0.0.1 " + master.port() + " 1\n");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    RedisServer sentinel = new RedisServer(dir, freePort(), List.of("--sentinel"), false, config);
    sentinel.start();
    return sentinel;
  }

  /**
   * Starts a Redis on a free port.
   *
   * @param dir a directory for its files (a test's {@code @TempDir})
   * @param extraArgs more {@code redis-server} arguments, such as {@code "--requirepass", "x"}
   * @return the running server
   */
  public static RedisServer start(Path dir, String... extraArgs) {
    RedisServer server = new RedisServer(dir, freePort(), List.of(extraArgs), false);
    server.start();
    return server;
  }

  /**
   * Starts a Redis that speaks only TLS on a free port (the plain port is off).
   *
   * @param dir a directory for its files
   * @param certificate the server's PEM certificate file
   * @param key its PEM private key file
   * @param ca the CA file clients' certificates would be checked against (none are asked for)
   * @param extraArgs more arguments
   * @return the running server
   */
  public static RedisServer startTls(
      Path dir, Path certificate, Path key, Path ca, String... extraArgs) {
    List<String> args = new ArrayList<>();
    args.addAll(
        List.of(
            "--tls-cert-file",
            certificate.toString(),
            "--tls-key-file",
            key.toString(),
            "--tls-ca-cert-file",
            ca.toString(),
            "--tls-auth-clients",
            "no"));
    args.addAll(List.of(extraArgs));
    RedisServer server = new RedisServer(dir, freePort(), args, true);
    server.start();
    return server;
  }

  static RedisServer startCluster(Path dir, int port) {
    RedisServer server =
        new RedisServer(
            dir,
            port,
            List.of(
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                "nodes.conf",
                "--cluster-node-timeout",
                "5000"),
            false);
    server.start();
    return server;
  }

  /** {@return the port} */
  public int port() {
    return port;
  }

  /** {@return {@code redis://127.0.0.1:<port>}, or {@code rediss://} for a TLS server} */
  public String uri() {
    return (tlsOnly ? "rediss" : "redis") + "://127.0.0.1:" + port;
  }

  /** Starts the server (again), on its port, and waits until it answers. */
  public void start() {
    if (process != null && process.isAlive()) {
      throw new IllegalStateException("redis-server on port " + port + " already runs");
    }
    try {
      Files.createDirectories(dir);
      List<String> command = new ArrayList<>();
      command.add("redis-server");
      if (configFile != null) {
        command.add(configFile.toString());
      }
      command.addAll(
          List.of(
              "--bind", "127.0.0.1",
              "--dir", dir.toString(),
              "--save", "",
              "--appendonly", "no",
              "--daemonize", "no",
              "--protected-mode", "no",
              "--logfile", dir.resolve("redis-" + port + ".log").toString()));
      if (tlsOnly) {
        command.addAll(List.of("--port", "0", "--tls-port", Integer.toString(port)));
      } else {
        command.addAll(List.of("--port", Integer.toString(port)));
      }
      command.addAll(extraArgs);
      process =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(dir.resolve("redis-" + port + ".out").toFile())
              .start();
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot start redis-server (apt-get install redis-server; ./run-tests does it)", e);
    }
    await()
        .atMost(STARTUP)
        .pollInterval(Duration.ofMillis(50))
        .until(
            () -> {
              if (!process.isAlive()) {
                throw new IllegalStateException(
                    "redis-server on port " + port + " exited: " + log());
              }
              return listening();
            });
  }

  /** Kills the server and waits until it is gone; {@link #start()} brings it back. */
  public void stop() {
    if (process == null) {
      return;
    }
    process.destroyForcibly();
    try {
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        throw new IllegalStateException("redis-server on port " + port + " did not die");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
    process = null;
  }

  /**
   * Freezes the server ({@code SIGSTOP}): it keeps its connections but answers nothing, as a Redis
   * stuck in a long command or a network that drops packets would. {@link #resume()} thaws it.
   */
  public void pause() {
    signal("-STOP");
  }

  /** Thaws a server frozen by {@link #pause()} ({@code SIGCONT}). */
  public void resume() {
    signal("-CONT");
  }

  private void signal(String signal) {
    if (process == null) {
      throw new IllegalStateException("redis-server on port " + port + " is not running");
    }
    RedisCluster.run(List.of("kill", signal, Long.toString(process.pid())));
  }

  /**
   * Runs {@code redis-cli} against this server (following Cluster redirections) and returns its
   * output.
   *
   * @param args the command, such as {@code "DEL", "key"}
   * @return what redis-cli printed, trimmed
   */
  public String cli(String... args) {
    List<String> command =
        new ArrayList<>(List.of("redis-cli", "-c", "-p", Integer.toString(port)));
    command.addAll(extraCliArgs());
    command.addAll(List.of(args));
    return RedisCluster.run(command);
  }

  private List<String> extraCliArgs() {
    List<String> args = new ArrayList<>();
    for (int i = 0; i < extraArgs.size() - 1; i++) {
      if (extraArgs.get(i).equals("--requirepass")) {
        args.addAll(List.of("--no-auth-warning", "-a", extraArgs.get(i + 1)));
      }
    }
    if (tlsOnly) {
      for (int i = 0; i < extraArgs.size() - 1; i++) {
        if (extraArgs.get(i).equals("--tls-ca-cert-file")) {
          args.addAll(List.of("--tls", "--cacert", extraArgs.get(i + 1)));
        }
      }
    }
    return args;
  }

  /** {@return the server's log so far, for failure messages} */
  public String log() {
    try {
      Path log = dir.resolve("redis-" + port + ".log");
      Path out = dir.resolve("redis-" + port + ".out");
      return (Files.exists(out) ? Files.readString(out, StandardCharsets.UTF_8) : "")
          + (Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "");
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  @Override
  public void close() {
    stop();
  }

  private boolean listening() {
    try (java.net.Socket socket = new java.net.Socket(InetAddress.getLoopbackAddress(), port)) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** {@return a free port whose Cluster bus port (port + 10000) is free too} */
  static int freePort() {
    for (int attempt = 0; attempt < 100; attempt++) {
      int port;
      try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
        port = socket.getLocalPort();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      if (port + 10000 > 65535) {
        continue;
      }
      try (ServerSocket bus = new ServerSocket(port + 10000, 1, InetAddress.getLoopbackAddress())) {
        return port;
      } catch (IOException e) {
        // Taken; try another.
      }
    }
    throw new IllegalStateException("no free port pair found");
  }
}
