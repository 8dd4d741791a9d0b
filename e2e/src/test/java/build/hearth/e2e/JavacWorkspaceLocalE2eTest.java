package build.hearth.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The {@code javac} workspace (41 {@code java_lib} targets compiled by examples/javac-worker) built
 * by Bazel 4.2.3 with its own local worker strategy, before Hearth is involved: proves the
 * workspace, the rule and the worker jar, in each way Bazel can speak to the worker. Every build
 * must run all 41 compilations as worker requests on at most {@code --worker_max_instances}
 * processes, and the resulting jars must run: {@code app.Main} prints the checksum the generator
 * computed through all 40 libraries.
 */
class JavacWorkspaceLocalE2eTest {
  static final int LIBRARIES = 40;
  private static final int MAX_INSTANCES = 4;
  private static final Duration BUILD_TIMEOUT = Duration.ofMinutes(6);

  @Test
  void protoWorkersBuildEveryLibrary() throws IOException {
    buildAndCheck("proto", "worker-", MAX_INSTANCES);
  }

  @Test
  void jsonWorkersBuildEveryLibrary() throws IOException {
    buildAndCheck(
        "json",
        "worker-",
        MAX_INSTANCES,
        "--define=JAVAC_WORKER_PROTOCOL=json",
        "--experimental_worker_allow_json_protocol");
  }

  /** Bazel 4.2 starts one multiplex process per key and counts its spawns as "worker" too. */
  @Test
  void oneMultiplexWorkerBuildsEveryLibrary() throws IOException {
    buildAndCheck(
        "proto",
        "multiplex-worker-",
        1,
        "--define=JAVAC_WORKER_MULTIPLEX=1",
        "--experimental_worker_multiplex");
  }

  private void buildAndCheck(
      String protocol, String logPrefix, int maxProcesses, String... extraFlags)
      throws IOException {
    BazelWorkspace workspace = prepare();
    JavaWorkspace java = JavaWorkspace.generate(workspace.root(), LIBRARIES);
    try (Bazel bazel = Bazel.open(workspace, JavacWorkspaceLocalE2eTest.class, BUILD_TIMEOUT)) {
      List<String> args = new ArrayList<>();
      args.add("--strategy=JavaLib=worker");
      args.add("--worker_max_instances=" + MAX_INSTANCES);
      args.add("--jobs=8");
      args.addAll(List.of(extraFlags));
      args.add("//...");
      BazelResult result = bazel.build(args.toArray(String[]::new));

      ProcessSummary summary = result.processSummary();
      assertThat(summary.counts().getOrDefault("worker", 0))
          .as("compilations run as worker requests: %s", summary)
          .isEqualTo(LIBRARIES + 1);

      Path bin = bazel.bazelBin();
      List<Path> jars = java.jars().stream().map(bin::resolve).toList();
      assertThat(jars).allSatisfy(jar -> assertThat(jar).isRegularFile());
      assertThat(runApp(jars)).isEqualTo(java.expectedOutput());

      // 41 compilations on at most this many processes: the workers were reused.
      List<Path> logs = workerLogs(Path.of(bazel.info("output_base")));
      assertThat(logs)
          .as("one log per worker process Bazel started")
          .hasSizeBetween(1, maxProcesses)
          .allSatisfy(log -> assertThat(log.getFileName().toString()).startsWith(logPrefix));
      for (Path log : logs) {
        assertThat(Files.readString(log, StandardCharsets.UTF_8))
            .as("worker log %s", log)
            .contains("javac worker: serving " + protocol + " requests");
      }
    }
  }

  /**
   * A fresh copy of the template with the worker jar built by the examples/javac-worker module,
   * which the reactor builds (with {@code package}) before this module.
   */
  static BazelWorkspace prepare() {
    Path jar = workerJar();
    BazelWorkspace workspace = BazelWorkspace.fromTemplate("javac");
    try {
      Files.copy(jar, workspace.resolve("tools/javac-worker.jar"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return workspace;
  }

  static Path workerJar() {
    Path root = E2eDirectories.target().getParent().getParent();
    Path jar = root.resolve("examples/javac-worker/target/javac-worker.jar");
    if (!Files.isRegularFile(jar)) {
      fail(
          "the javac worker jar "
              + jar
              + " is missing; build it with: ./mvnw -o -pl examples/javac-worker -am package"
              + " -DskipTests (./mvnw verify builds it before the end-to-end tests)");
    }
    return jar;
  }

  /** Bazel keeps each worker process's stderr in {@code bazel-workers/*.log}. */
  private static List<Path> workerLogs(Path outputBase) throws IOException {
    Path directory = outputBase.resolve("bazel-workers");
    if (!Files.isDirectory(directory)) {
      return List.of();
    }
    try (Stream<Path> files = Files.list(directory)) {
      return files.filter(file -> file.getFileName().toString().endsWith(".log")).sorted().toList();
    }
  }

  /** Runs {@code app.Main} on the built jars and returns what it printed, trimmed. */
  static String runApp(List<Path> jars) throws IOException {
    List<String> command =
        List.of(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-cp",
            String.join(":", jars.stream().map(Path::toString).toList()),
            "app.Main");
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    try {
      String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!process.waitFor(1, TimeUnit.MINUTES)) {
        process.destroyForcibly();
        fail("app.Main did not end: " + output);
      }
      assertThat(process.exitValue()).as("app.Main's exit status; it printed: %s", output).isZero();
      return output.trim();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
