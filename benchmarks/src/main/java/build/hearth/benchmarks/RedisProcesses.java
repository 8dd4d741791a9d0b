package build.hearth.benchmarks;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The Redis servers a load-driver run starts for itself when it is given none: one {@code
 * redis-server} (Debian's) on a free port of 127.0.0.1, or three joined into a Cluster with {@code
 * redis-cli --cluster create}, like the tests' fixtures in hearth-redis's test-jar (which this main
 * program cannot use). No persistence; each server's files in a directory of the run's; every
 * process killed by {@link #close()}.
 */
final class RedisProcesses implements AutoCloseable {
  private static final long STARTUP_MILLIS = 30_000;

  private final List<Process> processes = new ArrayList<>();
  private final List<Integer> ports = new ArrayList<>();

  private RedisProcesses() {}

  /** Starts one Redis in a subdirectory of {@code dir}. */
  static RedisProcesses single(Path dir) {
    RedisProcesses redis = new RedisProcesses();
    try {
      redis.startServer(dir.resolve("redis"), List.of());
      return redis;
    } catch (RuntimeException e) {
      redis.close();
      throw e;
    }
  }

  /** Starts three Cluster nodes in subdirectories of {@code dir} and joins them. */
  static RedisProcesses cluster(Path dir) {
    RedisProcesses redis = new RedisProcesses();
    try {
      for (int i = 0; i < 3; i++) {
        redis.startServer(
            dir.resolve("cluster-node-" + i),
            List.of("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"));
      }
      List<String> create = new ArrayList<>(List.of("redis-cli", "--cluster", "create"));
      redis.ports.forEach(p -> create.add("127.0.0.1:" + p));
      create.addAll(List.of("--cluster-replicas", "0", "--cluster-yes"));
      run(create);
      long deadline = System.currentTimeMillis() + STARTUP_MILLIS;
      for (int port : redis.ports) {
        while (!cli(port, "CLUSTER", "INFO").contains("cluster_state:ok")) {
          if (System.currentTimeMillis() > deadline) {
            throw new IllegalStateException("the Redis Cluster did not become ready in 30 s");
          }
          pause();
        }
      }
      return redis;
    } catch (RuntimeException e) {
      redis.close();
      throw e;
    }
  }

  /** {@return the servers' URIs, {@code redis://127.0.0.1:<port>}} */
  List<String> uris() {
    return ports.stream().map(p -> "redis://127.0.0.1:" + p).toList();
  }

  /**
   * {@return the CPU seconds (user + system) the Redis servers at {@code uris} have used since they
   * started, summed, from {@code INFO cpu}; NaN if one cannot be read} What a lookup costs Redis
   * depends far less on a neighbour's load than the lookup's wall time does.
   */
  static double cpuSeconds(List<String> uris) {
    double total = 0;
    for (String uri : uris) {
      String info;
      try {
        info = run(List.of("redis-cli", "-u", uri, "INFO", "cpu"));
      } catch (RuntimeException e) {
        return Double.NaN;
      }
      for (String line : info.split("\\R")) {
        if (line.startsWith("used_cpu_user:") || line.startsWith("used_cpu_sys:")) {
          total += Double.parseDouble(line.substring(line.indexOf(':') + 1).trim());
        }
      }
    }
    return total;
  }

  /** {@return the version {@code redis-server --version} reports, or "unknown"} */
  static String version() {
    try {
      String out = run(List.of("redis-server", "--version"));
      int v = out.indexOf("v=");
      return v < 0 ? out : "redis-server " + out.substring(v + 2).split("\\s+")[0];
    } catch (RuntimeException e) {
      return "unknown";
    }
  }

  private void startServer(Path dir, List<String> extra) {
    int port = freePort();
    try {
      Files.createDirectories(dir);
      List<String> command =
          new ArrayList<>(
              List.of(
                  "redis-server",
                  "--bind",
                  "127.0.0.1",
                  "--port",
                  Integer.toString(port),
                  "--dir",
                  dir.toString(),
                  "--save",
                  "",
                  "--appendonly",
                  "no",
                  "--protected-mode",
                  "no",
                  "--logfile",
                  dir.resolve("redis.log").toString()));
      command.addAll(extra);
      processes.add(
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(dir.resolve("redis.out").toFile())
              .start());
      ports.add(port);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot start redis-server (apt-get install redis-server), or give --redis-uri", e);
    }
    long deadline = System.currentTimeMillis() + STARTUP_MILLIS;
    while (!cli(port, "PING").equals("PONG")) {
      if (System.currentTimeMillis() > deadline) {
        throw new IllegalStateException("redis-server on port " + port + " did not start in 30 s");
      }
      pause();
    }
  }

  private static String cli(int port, String... args) {
    List<String> command = new ArrayList<>(List.of("redis-cli", "-p", Integer.toString(port)));
    command.addAll(List.of(args));
    try {
      return run(command);
    } catch (IllegalStateException e) {
      return "";
    }
  }

  private static String run(List<String> command) {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      byte[] out = p.getInputStream().readAllBytes();
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException(String.join(" ", command) + " did not finish");
      }
      String text = new String(out, StandardCharsets.UTF_8).trim();
      if (p.exitValue() != 0) {
        throw new IllegalStateException(String.join(" ", command) + " failed: " + text);
      }
      return text;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot run " + command.get(0), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  private static void pause() {
    try {
      Thread.sleep(50);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for Redis", e);
    }
  }

  /** A free port below 55536, so that a Cluster node's bus port (port + 10000) exists too. */
  private static int freePort() {
    while (true) {
      try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
        if (socket.getLocalPort() + 10_000 <= 65_535) {
          return socket.getLocalPort();
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  @Override
  public void close() {
    for (Process p : processes) {
      p.destroyForcibly();
    }
    for (Process p : processes) {
      try {
        p.waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }
}
