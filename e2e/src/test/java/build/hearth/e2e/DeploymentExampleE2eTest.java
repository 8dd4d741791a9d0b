package build.hearth.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

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
import org.junit.jupiter.api.Test;

/**
 * Follows {@code examples/persistent-workers/README.md} step by step, with this build's Hearth:
 *
 * <ol>
 *   <li>{@code hearth serve hearth-config.json}, as a process of its own, from a copy of the
 *       example's file in which only the port (a free one instead of 50052) and the store paths
 *       (this test's directory instead of {@code ~/.cache/hearth/example}) differ;
 *   <li>{@code ./worker-wrapper.sh --scheduler-endpoint http://localhost:PORT --config
 *       worker.json}, the example's worker file with work and cache directories in this test's
 *       directory added;
 *   <li>{@code bazel build //...} of the 41-target {@code javac} workspace with the example's
 *       {@code .bazelrc}, its endpoint rewritten to the port;
 *   <li>{@code curl http://localhost:PORT/metrics | grep persistent_worker}: one worker request per
 *       compile action;
 *   <li>{@code hearth admin worker-stats}: lists the worker and the key.
 * </ol>
 *
 * Where the README runs {@code ./hearth} from the checkout, the test runs an equivalent launcher of
 * the build under test ({@link DeploymentExample#writeLauncher}). Its files live under {@code
 * target/deployment-example}, outside {@code /tmp}, which the wrapper gives the worker a private
 * copy of.
 */
class DeploymentExampleE2eTest {
  private static final int COMPILES = JavacWorkspaceLocalE2eTest.LIBRARIES + 1;
  private static final Duration BUILD_TIMEOUT = Duration.ofMinutes(6);
  private static final String EXAMPLE_STORES = "~/.cache/hearth/example";

  @Test
  void theExampleRunsAsItsReadmeSays() throws IOException {
    Path directory =
        E2eDirectories.target()
            .resolve("deployment-example")
            .resolve(Long.toString(System.nanoTime()));
    Path launcher = DeploymentExample.writeLauncher(directory.resolve("bin"));
    int port = DeploymentExample.freePort();
    String address = "localhost:" + port;

    // 1. hearth serve hearth-config.json
    String serverConfig = DeploymentExample.read("hearth-config.json");
    serverConfig = DeploymentExample.replace(serverConfig, "127.0.0.1:50052", "127.0.0.1:" + port);
    serverConfig =
        DeploymentExample.replace(
            serverConfig, EXAMPLE_STORES, directory.resolve("stores").toString());
    Path serverConfigFile = write(directory.resolve("hearth-config.json"), serverConfig);
    Process server =
        start(
            List.of(launcher.toString(), "serve", serverConfigFile.toString()),
            directory.resolve("server.log"));
    try {
      Processes.awaitLogLine(server, directory.resolve("server.log"), "Serving REAPI over gRPC");

      // 2. ./worker-wrapper.sh --scheduler-endpoint http://localhost:PORT --config worker.json
      String workerConfig =
          DeploymentExample.replace(
              DeploymentExample.read("worker.json"),
              "\"name\": \"worker-1\",",
              "\"name\": \"worker-1\", \"workDirectory\": "
                  + HearthConfigs.quoted(directory.resolve("worker/work"))
                  + ", \"cache\": {\"path\": "
                  + HearthConfigs.quoted(directory.resolve("worker/cas"))
                  + "},");
      try (WrappedWorker worker =
          WrappedWorker.start(
              "worker-1", workerConfig, directory.resolve("worker"), launcher, port)) {
        assertThat(worker.readLog()).contains("worker-wrapper: starting the worker");

        // 3. bazel build //... with the example's .bazelrc
        BazelWorkspace workspace = JavacWorkspaceLocalE2eTest.prepare();
        JavaWorkspace java =
            JavaWorkspace.generate(workspace.root(), JavacWorkspaceLocalE2eTest.LIBRARIES);
        workspace.writeFile(
            ".bazelrc",
            DeploymentExample.replace(
                DeploymentExample.read(".bazelrc"), DeploymentExample.EXAMPLE_ADDRESS, address));
        try (Bazel bazel = Bazel.open(workspace, DeploymentExampleE2eTest.class, BUILD_TIMEOUT)) {
          ProcessSummary summary = bazel.build("//...").processSummary();
          assertThat(summary.remotelyExecuted())
              .as("every compile ran remotely: %s", summary)
              .isEqualTo(COMPILES);
          List<Path> jars = java.jars().stream().map(bazel.bazelBin()::resolve).toList();
          assertThat(JavacWorkspaceLocalE2eTest.runApp(jars)).isEqualTo(java.expectedOutput());
        }

        // 4. curl http://localhost:PORT/metrics | grep persistent_worker
        String metrics = get("http://" + address + "/metrics");
        assertThat(sum(metrics, "persistent_worker_requests_total"))
            .as("worker requests (warm and cold) in:\n%s", grep(metrics, "persistent_worker"))
            .isEqualTo(COMPILES);

        // 5. hearth admin worker-stats
        Path statsLog = directory.resolve("worker-stats.log");
        Process stats =
            start(
                List.of(
                    launcher.toString(),
                    "admin",
                    "worker-stats",
                    "--endpoint",
                    "http://" + address),
                statsLog);
        int status = DeploymentExample.await(stats);
        String table = Files.readString(statsLog, StandardCharsets.UTF_8);
        assertThat(status).as("hearth admin worker-stats printed:\n%s", table).isZero();
        assertThat(table).contains("worker-1", "javac-example");
      }
    } finally {
      Processes.stop(server, Duration.ofSeconds(30), new ArrayList<>());
    }
  }

  private static Path write(Path file, String content) {
    try {
      Files.createDirectories(file.getParent());
      return Files.writeString(file, content, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Process start(List<String> command, Path log) {
    return Processes.start(Processes.logging(command, log));
  }

  /** GET over HTTP/1.1, as curl does. */
  private static String get(String url) {
    HttpClient client =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10))
            .build();
    HttpRequest request =
        HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(20)).GET().build();
    try {
      HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
      assertThat(response.statusCode()).as("GET %s: %s", url, response.body()).isEqualTo(200);
      return response.body();
    } catch (IOException e) {
      return fail("GET " + url + " failed: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** The sum of every sample of {@code metric} (over all its label sets) in Prometheus text. */
  private static long sum(String metrics, String metric) {
    double total = 0;
    for (String line : metrics.lines().toList()) {
      if (line.startsWith(metric + "{") || line.startsWith(metric + " ")) {
        String[] fields = line.trim().split("\\s+");
        // "name{labels} value [timestamp]": label values may hold spaces, so find the value
        // after the closing brace.
        int brace = line.lastIndexOf('}');
        String rest = brace < 0 ? fields[1] : line.substring(brace + 1).trim().split("\\s+")[0];
        total += Double.parseDouble(rest);
      }
    }
    return Math.round(total);
  }

  private static String grep(String text, String word) {
    return String.join("\n", text.lines().filter(line -> line.contains(word)).toList());
  }
}
