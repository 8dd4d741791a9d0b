package build.hearth.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SortedMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Follows {@code examples/custom-storage/README.md}: builds the SQLite storage plugin, a standalone
 * Maven project, against the installed Hearth artifacts with {@code mvnw -o package} (which also
 * runs the plugin's conformance tests); starts {@code hearth serve} as a JVM of its own with the
 * server's runnable jar, the plugin's jar and the SQLite driver on the class path and a
 * configuration whose CAS and action cache are {@code "type": "sqlite"}; then has Bazel use it as
 * its remote cache for the {@code cache} workspace, and after {@code bazel clean} rebuilds it
 * entirely from the SQLite store.
 */
class CustomStorageE2eTest {
  private static final int MINIMUM_SPAWNS = 20;
  private static final String SERVER_JAR = "server/target/hearth-server-0.1.0-SNAPSHOT-all.jar";
  private static final String PLUGIN = "examples/custom-storage";
  private static final String INSTALL_HINT =
      "run ./run-tests, or ./mvnw install -DskipTests in the checkout, first";

  @Test
  void sqlitePluginServesABazelRemoteCacheBuild() throws IOException {
    Path repo = E2eDirectories.target().getParent().getParent();
    Path directory =
        E2eDirectories.target().resolve("custom-storage").resolve(Long.toString(System.nanoTime()));
    Files.createDirectories(directory);

    // 1. mvnw -o -B -q -f examples/custom-storage/pom.xml package
    buildPlugin(repo, directory.resolve("plugin-build.log"));
    Path serverJar = existing(repo.resolve(SERVER_JAR), "the server's runnable jar");
    Path pluginJar =
        existing(repo.resolve(PLUGIN).resolve("target/hearth-sqlite-storage.jar"), "plugin jar");
    Path driverJar =
        existing(repo.resolve(PLUGIN).resolve("target/lib/sqlite-jdbc.jar"), "SQLite driver");

    // 2. java -cp <server>:<plugin>:<driver> build.hearth.server.Main serve hearth-config.json
    int port = DeploymentExample.freePort();
    Path database = directory.resolve("stores/hearth.db");
    Path config =
        Files.writeString(
            directory.resolve("hearth-config.json"),
            """
            {
              "blobStores": {"cas": {"type": "sqlite", "path": %s, "maxSize": "4GiB"}},
              "actionCacheStores": {"ac": {"type": "sqlite", "path": %s}},
              "servers": [
                {"listen": "127.0.0.1:%d", "instances": {"": {"cas": "cas", "actionCache": "ac"}}}
              ]
            }
            """
                .formatted(HearthConfigs.quoted(database), HearthConfigs.quoted(database), port),
            StandardCharsets.UTF_8);
    String classPath =
        String.join(
            File.pathSeparator,
            List.of(serverJar.toString(), pluginJar.toString(), driverJar.toString()));
    Path serverLog = directory.resolve("server.log");
    Process server =
        start(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m",
                "-cp",
                classPath,
                "build.hearth.server.Main",
                "serve",
                config.toString()),
            serverLog,
            repo);
    try {
      Processes.awaitLogLine(server, serverLog, "Serving REAPI over gRPC");

      // 3. bazel build --remote_cache=grpc://localhost:PORT //..., bazel clean, and again
      BazelWorkspace workspace = BazelWorkspace.fromTemplate("cache");
      try (Bazel bazel = Bazel.open(workspace, CustomStorageE2eTest.class)) {
        String remoteCache = "--remote_cache=grpc://localhost:" + port;

        ProcessSummary first = bazel.build(remoteCache, "//...").processSummary();
        assertThat(first.remoteCacheHits()).as("cache hits of the first build: %s", first).isZero();
        assertThat(first.spawns())
            .as("spawns of the first build: %s", first)
            .isGreaterThanOrEqualTo(MINIMUM_SPAWNS);
        SortedMap<String, String> firstOutputs = OutputFiles.sha256(bazel.bazelBin());

        bazel.clean();

        ProcessSummary second = bazel.build(remoteCache, "//...").processSummary();
        assertThat(second.executedLocally()).as("local spawns of the rebuild: %s", second).isZero();
        assertThat(second.remoteCacheHits())
            .as("cache hits of the rebuild: %s (first build: %s)", second, first)
            .isEqualTo(second.spawns())
            .isEqualTo(first.spawns());
        assertThat(OutputFiles.sha256(bazel.bazelBin()))
            .as("outputs rebuilt from the SQLite store")
            .isEqualTo(firstOutputs);
      }
      assertThat(database).as("the SQLite database the configuration names").isNotEmptyFile();
    } finally {
      Processes.stop(server, Duration.ofSeconds(30), new ArrayList<>());
    }
  }

  /** Builds the plugin as its README says; fails with the fix when it cannot. */
  private static void buildPlugin(Path repo, Path log) {
    Process build =
        start(
            List.of(
                repo.resolve("mvnw").toString(),
                "-B",
                "-q",
                "-f",
                repo.resolve(PLUGIN).resolve("pom.xml").toString(),
                "package"),
            log,
            repo);
    int status;
    try {
      if (!build.waitFor(10, TimeUnit.MINUTES)) {
        build.destroyForcibly();
        fail("building " + PLUGIN + " took more than 10 minutes; see " + log);
      }
      status = build.exitValue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
    if (status != 0) {
      String output = read(log);
      String hint =
          output.contains("build.hearth:hearth-")
              ? "Hearth's artifacts are not installed in the local Maven repository: "
                  + INSTALL_HINT
              : output.contains("org.xerial:sqlite-jdbc")
                  ? "the SQLite driver is not in the local Maven repository: fetch it once with"
                      + " ./mvnw -f "
                      + PLUGIN
                      + "/pom.xml dependency:resolve (online)"
                  : "see the output";
      fail(
          "mvnw -o package of "
              + PLUGIN
              + " failed with status "
              + status
              + "; "
              + hint
              + ". Output ("
              + log
              + "):\n"
              + tail(output));
    }
  }

  private static Path existing(Path file, String what) {
    if (!Files.isRegularFile(file)) {
      fail(what + " is missing: " + file + "; " + INSTALL_HINT);
    }
    return file;
  }

  private static Process start(List<String> command, Path log, Path workingDirectory) {
    return Processes.start(Processes.logging(command, log).directory(workingDirectory.toFile()));
  }

  private static String read(Path file) {
    try {
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String tail(String text) {
    List<String> lines = text.lines().toList();
    return String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size()));
  }
}
