package build.hearth.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import build.hearth.redis.testing.RedisServer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 16's deployment, end to end with Bazel 4.2.3: one Redis (stores and scheduler state), two
 * {@code hearth serve} processes behind Debian's haproxy, one {@code hearth worker} attached to
 * each (and given the other server too). The server that holds Bazel's connection is killed with
 * SIGKILL while steps of the build run on both workers: the build completes with the right outputs,
 * and every action started exactly once (each step records its start in a file, the dead server's
 * worker re-attached to the other and delivered what it ran, and the surviving server queued
 * nothing again). Then {@code bazel clean} and the same build through the other server directly:
 * every action is a remote cache hit.
 */
class ScaleOutE2eTest {
  private static final int STEPS = 24;
  private static final Duration BUILD_TIMEOUT = Duration.ofMinutes(6);

  @TempDir Path dir;

  @Test
  void aBuildSurvivesTheDeathOfTheServerHoldingItsConnectionAndTheOtherServesItFromCache()
      throws Exception {
    Path runs = dir.resolve("runs.log");
    Files.createFile(runs);
    int portA = DeploymentExample.freePort();
    int portB = DeploymentExample.freePort();
    try (RedisServer redis = RedisServer.start(dir.resolve("redis"));
        ServeProcess a = ServeProcess.start(config("a", portA, redis), dir.resolve("a.log"));
        ServeProcess b = ServeProcess.start(config("b", portB, redis), dir.resolve("b.log"));
        HaProxy proxy = HaProxy.start(dir.resolve("haproxy"), List.of(portA, portB));
        // Each worker is given both servers, its own first, as docs/scale-out.md says.
        WorkerProcess workerA = worker("worker-a", portA, portB);
        WorkerProcess workerB = worker("worker-b", portB, portA);
        Bazel bazel =
            Bazel.open(
                BazelWorkspace.fromTemplate("scaleout"), ScaleOutE2eTest.class, BUILD_TIMEOUT)) {
      String actionEnv = "--action_env=HEARTH_RUNS=" + runs;

      // balance first: Bazel's connection goes to a, the first server listed.
      Bazel.Running build =
          bazel.start(
              "build",
              "--remote_executor=grpc://127.0.0.1:" + proxy.port(),
              "--jobs=8",
              actionEnv,
              "//:summary");
      await()
          .alias("steps to start on both workers")
          .atMost(BUILD_TIMEOUT)
          .pollInterval(Duration.ofMillis(100))
          .until(() -> startedOnBoth(runs, workerA, workerB) && build.isAlive());
      a.kill();
      BazelResult first = build.await();

      first.assertExitCode(0);
      assertThat(Files.readString(bazel.bazelBin().resolve("summary.txt")))
          .isEqualTo(expectedSummary());
      assertThat(starts(runs)).as("how often each step started (%s)", runs).isEqualTo(once());
      assertThat(metric(portB, "hearth_scheduler_requeued_actions_total"))
          .as("actions the surviving server queued again")
          .isZero();
      assertThat(b.log())
          .as("the surviving server's log")
          .contains("worker 'worker-a' re-attached")
          .doesNotContainPattern("execution \\S+ queued again");

      bazel.clean();
      BazelResult second =
          bazel.run(
              "build",
              "--remote_executor=grpc://127.0.0.1:" + portB,
              "--jobs=8",
              actionEnv,
              "//:summary");

      second.assertExitCode(0);
      ProcessSummary summary = second.processSummary();
      assertThat(summary.spawns()).as("spawns: %s", summary).isEqualTo(STEPS + 1);
      assertThat(summary.remoteCacheHits()).as("cache hits: %s", summary).isEqualTo(STEPS + 1);
      assertThat(Files.readString(bazel.bazelBin().resolve("summary.txt")))
          .isEqualTo(expectedSummary());
      assertThat(starts(runs)).as("no step ran again").isEqualTo(once());
    }
  }

  @Test
  void redisStoppedDuringABuildFailsItClearlyOrItSucceedsButNeverWithWrongOutputs()
      throws Exception {
    Path runs = dir.resolve("runs.log");
    Files.createFile(runs);
    int port = DeploymentExample.freePort();
    try (RedisServer redis = RedisServer.start(dir.resolve("redis"));
        ServeProcess server = ServeProcess.start(config("a", port, redis), dir.resolve("a.log"));
        WorkerProcess worker = worker("worker-a", port);
        Bazel bazel =
            Bazel.open(
                BazelWorkspace.fromTemplate("scaleout"), ScaleOutE2eTest.class, BUILD_TIMEOUT)) {
      Bazel.Running build =
          bazel.start(
              "build",
              "--remote_executor=grpc://127.0.0.1:" + port,
              "--jobs=8",
              "--action_env=HEARTH_RUNS=" + runs,
              "//:summary");
      await()
          .atMost(BUILD_TIMEOUT)
          .pollInterval(Duration.ofMillis(100))
          .until(() -> Files.readAllLines(runs).size() >= 2 && build.isAlive());
      redis.stop();
      Thread.sleep(3_000);
      redis.start();
      BazelResult result = build.await();

      if (result.exitCode() == 0) {
        assertThat(Files.readString(bazel.bazelBin().resolve("summary.txt")))
            .isEqualTo(expectedSummary());
      } else {
        assertThat(result.output())
            .as("why the build failed")
            .contains("UNAVAILABLE")
            .contains("127.0.0.1:" + redis.port());
        assertThat(bazel.bazelBin().resolve("summary.txt")).doesNotExist();
      }
      // Either way the server serves again, without a restart: the same build now succeeds.
      BazelResult again =
          bazel.run(
              "build",
              "--remote_executor=grpc://127.0.0.1:" + port,
              "--jobs=8",
              "--action_env=HEARTH_RUNS=" + runs,
              "//:summary");
      again.assertExitCode(0);
      assertThat(Files.readString(bazel.bazelBin().resolve("summary.txt")))
          .isEqualTo(expectedSummary());
    }
  }

  private Path config(String name, int port, RedisServer redis) throws IOException {
    String json =
        """
        {
          "blobStores": {"cas": {"type": "redis", "uri": "%1$s"}},
          "actionCacheStores": {"ac": {"type": "redis", "uri": "%1$s"}},
          "schedulers": {"main": {
            "properties": {"OSFamily": "exact"},
            "state": {"type": "redis", "uri": "%1$s"},
            "workerLease": "10s"
          }},
          "servers": [ {
            "listen": "127.0.0.1:%2$d",
            "workerApi": {"scheduler": "main"},
            "instances": {"": {"cas": "cas", "actionCache": "ac", "execution": {"scheduler": "main"}}}
          } ]
        }
        """
            .formatted(redis.uri(), port);
    Path file = dir.resolve(name + ".json");
    Files.writeString(file, json, StandardCharsets.UTF_8);
    return file;
  }

  private WorkerProcess worker(String name, int port, int... others) {
    StringBuilder endpoints = new StringBuilder("http://127.0.0.1:" + port);
    for (int other : others) {
      endpoints.append(",http://127.0.0.1:").append(other);
    }
    // No sandbox, so that the steps may record their starts in a file of the test.
    return WorkerProcess.start(
        WorkerSetup.linux(name, 4, dir.resolve("workers")),
        endpoints.toString(),
        ScaleOutE2eTest.class,
        "\"sandbox\": \"off\"");
  }

  private static boolean startedOnBoth(Path runs, WorkerProcess a, WorkerProcess b)
      throws IOException {
    List<String> lines = Files.readAllLines(runs, StandardCharsets.UTF_8);
    return lines.stream().anyMatch(line -> a.setup().ran(line.substring(line.indexOf(' ') + 1)))
        && lines.stream().anyMatch(line -> b.setup().ran(line.substring(line.indexOf(' ') + 1)));
  }

  /** How often each step started, by name, from the lines the steps appended. */
  private static Map<String, Long> starts(Path runs) throws IOException {
    return Files.readAllLines(runs, StandardCharsets.UTF_8).stream()
        .map(line -> line.substring(0, line.indexOf(' ')))
        .collect(Collectors.groupingBy(Function.identity(), TreeMap::new, Collectors.counting()));
  }

  private static Map<String, Long> once() {
    return IntStream.rangeClosed(1, STEPS)
        .mapToObj(i -> "step_" + i)
        .collect(Collectors.toMap(Function.identity(), s -> 1L, (x, y) -> x, TreeMap::new));
  }

  private static String expectedSummary() {
    return IntStream.rangeClosed(1, STEPS)
        .mapToObj(i -> "step " + i + " done")
        .sorted()
        .collect(Collectors.joining("\n", "", "\n"));
  }

  /** The value of an unlabelled-or-summed metric in a server's /metrics. */
  private static double metric(int port, String name) throws Exception {
    HttpResponse<String> response =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                    .timeout(Duration.ofSeconds(10))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).isEqualTo(200);
    double sum = 0;
    boolean found = false;
    for (String line : response.body().split("\n")) {
      if (line.startsWith(name + " ") || line.startsWith(name + "{")) {
        sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
        found = true;
      }
    }
    assertThat(found).as("%s in /metrics:\n%s", name, response.body()).isTrue();
    return sum;
  }
}
