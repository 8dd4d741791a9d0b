package build.hearth.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import build.hearth.core.config.HearthConfig;
import build.hearth.core.config.SchedulerConfig;
import build.hearth.core.config.WorkerConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The files of {@code examples/scale-out} are what docs/scale-out.md says: two server files that
 * differ only in their port and share a Redis scheduler state, workers that parse, an haproxy
 * configuration that haproxy itself accepts, and Redis configurations that a real {@code
 * redis-server} starts with, the cache's evicting and the state's not.
 */
class ScaleOutExampleTest {
  @TempDir Path dir;

  private static Path example() {
    return E2eDirectories.target().getParent().getParent().resolve("examples/scale-out");
  }

  private static String read(String name) {
    try {
      return Files.readString(example().resolve(name), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Test
  void theTwoServersShareOneRedisStateAndDifferOnlyInTheirPort() {
    HearthConfig a = HearthConfig.parse(read("hearth-a.json"), "hearth-a.json");
    HearthConfig b = HearthConfig.parse(read("hearth-b.json"), "hearth-b.json");

    assertThat(a.servers().get(0).listenAddress()).isEqualTo("127.0.0.1:50061");
    assertThat(b.servers().get(0).listenAddress()).isEqualTo("127.0.0.1:50062");
    SchedulerConfig main = a.schedulers().get("main");
    assertThat(main.state()).isPresent();
    assertThat(main.state().get().type()).isEqualTo("redis");
    assertThat(main).isEqualTo(b.schedulers().get("main"));
    assertThat(read("hearth-a.json").replace("50061", "50062")).isEqualTo(read("hearth-b.json"));
    for (String worker : List.of("worker-1.json", "worker-2.json")) {
      WorkerConfig config = WorkerConfig.parseStandalone(read(worker), worker);
      assertThat(config.name()).isEqualTo(worker.replace(".json", ""));
    }
    assertThat(read(".bazelrc")).contains("--remote_executor=grpc://127.0.0.1:50060");
    assertThat(read("haproxy.cfg"))
        .contains("bind 127.0.0.1:50060")
        .contains("127.0.0.1:50061")
        .contains("127.0.0.1:50062");
  }

  @Test
  void haproxyAcceptsItsConfiguration() throws IOException {
    Path log = dir.resolve("haproxy-check.log");
    Processes.Finished check =
        Processes.runToEnd(
            List.of(HaProxy.binary().toString(), "-c", "-f", "haproxy.cfg"), example(), log, 1);

    assertThat(check.exitCode()).as(check.output()).isZero();
  }

  @Test
  void redisStartsWithEachConfigurationAndEvictsOnlyTheCache() throws Exception {
    assertThat(redisSetting("redis-cache.conf", "maxmemory-policy")).isEqualTo("allkeys-lru");
    assertThat(redisSetting("redis-state.conf", "maxmemory-policy")).isEqualTo("noeviction");
    assertThat(redisSetting("redis-state.conf", "appendonly")).isEqualTo("yes");
  }

  /**
   * Starts redis-server with the example's file (on a free port, files in the test's directory).
   */
  private String redisSetting(String file, String setting) throws Exception {
    int port = DeploymentExample.freePort();
    Path log = dir.resolve(file + ".log");
    Process redis =
        Processes.start(
            Processes.logging(
                List.of(
                    "redis-server",
                    example().resolve(file).toString(),
                    "--port",
                    Integer.toString(port),
                    "--dir",
                    dir.toString()),
                log));
    try {
      Processes.awaitLogLine(redis, log, "Ready to accept connections");
      Path answer = dir.resolve(file + ".answer");
      Processes.Finished get =
          Processes.runToEnd(
              List.of("redis-cli", "-p", Integer.toString(port), "--raw", "config", "get", setting),
              dir,
              answer,
              1);
      assertThat(get.exitCode()).as(get.output()).isZero();
      List<String> lines = get.output().lines().toList();
      assertThat(lines).as(get.output()).hasSize(2);
      return lines.get(1);
    } finally {
      Processes.stop(redis, Duration.ofSeconds(10), new java.util.ArrayList<>());
    }
  }
}
