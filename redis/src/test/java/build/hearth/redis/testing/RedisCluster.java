package build.hearth.redis.testing;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real three-node Redis Cluster for a test: three {@code redis-server --cluster-enabled yes} on
 * free ports, joined with {@code redis-cli --cluster create ... --cluster-replicas 0}, ready once
 * every node reports {@code cluster_state:ok}. Each master holds a third of the slots, so keys with
 * different hash tags land on different nodes. {@link #close()} kills all three.
 *
 * <p>Published in hearth-redis's test-jar. Not thread-safe.
 */
public final class RedisCluster implements AutoCloseable {
  private final List<RedisServer> nodes;

  private RedisCluster(List<RedisServer> nodes) {
    this.nodes = nodes;
  }

  /**
   * Starts and joins the three nodes.
   *
   * @param dir a directory for their files (a test's {@code @TempDir}); each gets a subdirectory
   * @return the running cluster
   */
  public static RedisCluster start(Path dir) {
    List<RedisServer> nodes = new ArrayList<>();
    try {
      for (int i = 0; i < 3; i++) {
        nodes.add(RedisServer.startCluster(dir.resolve("node-" + i), RedisServer.freePort()));
      }
      List<String> create = new ArrayList<>(List.of("redis-cli", "--cluster", "create"));
      for (RedisServer node : nodes) {
        create.add("127.0.0.1:" + node.port());
      }
      create.addAll(List.of("--cluster-replicas", "0", "--cluster-yes"));
      run(create);
      await()
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(100))
          .until(
              () ->
                  nodes.stream()
                      .allMatch(n -> n.cli("CLUSTER", "INFO").contains("cluster_state:ok")));
      return new RedisCluster(nodes);
    } catch (RuntimeException e) {
      nodes.forEach(RedisServer::close);
      throw e;
    }
  }

  /** {@return the nodes, each a master of a third of the slots} */
  public List<RedisServer> nodes() {
    return nodes;
  }

  /** {@return the nodes' URIs, {@code redis://127.0.0.1:<port>}, as Cluster seeds} */
  public List<String> uris() {
    return nodes.stream().map(RedisServer::uri).toList();
  }

  /**
   * Runs {@code redis-cli -c} against the first node, following redirections to the key's node.
   *
   * @param args the command
   * @return its output, trimmed
   */
  public String cli(String... args) {
    return nodes.get(0).cli(args);
  }

  @Override
  public void close() {
    nodes.forEach(RedisServer::close);
  }

  static String run(List<String> command) {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      byte[] out = p.getInputStream().readAllBytes();
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException(String.join(" ", command) + " did not finish");
      }
      String text = new String(out, StandardCharsets.UTF_8).trim();
      if (p.exitValue() != 0) {
        throw new IllegalStateException(
            String.join(" ", command) + " failed (" + p.exitValue() + "): " + text);
      }
      return text;
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot run " + command.get(0) + " (apt-get install redis-server; ./run-tests does it)",
          e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
