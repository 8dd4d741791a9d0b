package build.hearth.e2e;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Debian's {@code haproxy} in front of Hearth servers, as docs/scale-out.md deploys it: plain TCP
 * (gRPC's HTTP/2 passes through untouched), each client connection to the first server that is up
 * ({@code balance first}, so a test knows which server holds Bazel's connection), servers checked
 * every 300 ms and their sessions cut as soon as one is down, so clients reconnect to the other.
 * Runs in the foreground of its own process; {@link #close()} stops it.
 */
final class HaProxy implements AutoCloseable {
  private static final String INSTALL_HINT = "apt-get install -y haproxy";

  private final Process process;
  private final int port;
  private final Path log;

  private HaProxy(Process process, int port, Path log) {
    this.process = process;
    this.port = port;
    this.log = log;
  }

  /** Starts haproxy on a free port of 127.0.0.1 in front of {@code serverPorts}, in this order. */
  static HaProxy start(Path directory, List<Integer> serverPorts) {
    Path binary = binary();
    int port = DeploymentExample.freePort();
    StringBuilder config =
        new StringBuilder(
            """
            global
              maxconn 1024
            defaults
              mode tcp
              timeout connect 2s
              timeout client 10m
              timeout server 10m
            frontend hearth
              bind 127.0.0.1:%d
              default_backend servers
            backend servers
              balance first
            """
                .formatted(port));
    for (int i = 0; i < serverPorts.size(); i++) {
      config.append(
          "  server s%d 127.0.0.1:%d check inter 300ms fall 1 rise 2 on-marked-down shutdown-sessions\n"
              .formatted(i, serverPorts.get(i)));
    }
    try {
      Files.createDirectories(directory);
      Path file = directory.resolve("haproxy.cfg");
      Files.writeString(file, config, StandardCharsets.UTF_8);
      Path log = directory.resolve("haproxy.log");
      Process process =
          new ProcessBuilder(binary.toString(), "-db", "-f", file.toString())
              .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
              .redirectErrorStream(true)
              .redirectOutput(log.toFile())
              .start();
      HaProxy proxy = new HaProxy(process, port, log);
      proxy.awaitListening();
      return proxy;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start haproxy", e);
    }
  }

  static Path binary() {
    for (String directory : List.of("/usr/sbin", "/usr/bin", "/usr/local/sbin")) {
      Path candidate = Path.of(directory, "haproxy");
      if (Files.isExecutable(candidate)) {
        return candidate;
      }
    }
    return fail("haproxy is not installed; install it with: " + INSTALL_HINT);
  }

  private void awaitListening() {
    await()
        .alias("haproxy to listen on " + port)
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(100))
        .until(
            () -> {
              if (!process.isAlive()) {
                fail("haproxy exited: " + Files.readString(log, StandardCharsets.UTF_8));
              }
              try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress("127.0.0.1", port), 1000);
                return true;
              } catch (IOException e) {
                return false;
              }
            });
  }

  /** The port clients connect to. */
  int port() {
    return port;
  }

  @Override
  public void close() {
    List<ProcessHandle> children = new ArrayList<>(process.descendants().toList());
    process.destroy();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    children.forEach(ProcessHandle::destroyForcibly);
  }
}
