package build.hearth.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The persistent-worker benchmark of {@code docs/benchmarks.md}: clean builds of the 41-target
 * {@code javac} workspace with Bazel 4.2.3, in one run, three ways, each from a cold start:
 *
 * <ol>
 *   <li><b>Hearth, persistent</b>: remote execution on a freshly started Hearth server process
 *       ({@code java -jar hearth-server-…-all.jar serve CONFIG}, what {@code ./hearth serve} runs)
 *       with one in-process worker, every compile a request to a javac worker process that the
 *       first build starts;
 *   <li><b>Hearth, fresh processes</b>: the same, with persistent workers disabled, so every
 *       compile starts a JVM ({@code java -jar javac-worker.jar @params}, the tool's one-shot
 *       mode);
 *   <li><b>Bazel local workers</b>: no Hearth; Bazel's own worker strategy.
 * </ol>
 *
 * Each way starts its own Bazel server (a workspace of its own, expunged at the end) and, for
 * Hearth, its own server JVM; there is no warm-up build: the first of the {@code ROUNDS} timed
 * builds is the one after the start, and every later one follows a {@code bazel clean} (with {@code
 * --noremote_accept_cached} for Hearth). Wall time is measured around the Bazel client; every
 * build's time is printed, and the median reported. Not part of the test suite (its name does not
 * end in Test); run it with:
 *
 * <pre>
 * ./mvnw -B -pl e2e -am verify -Dtest=PersistentWorkersBenchmark -Dsurefire.failIfNoSpecifiedTests=false
 * </pre>
 *
 * {@code -Dhearth.benchmark.serverJavaOpts="..."} adds options to the server JVM's command line (as
 * {@code HEARTH_JAVA_OPTS} does for {@code ./hearth}), to measure JVM settings such as class-data
 * sharing or tiered compilation; {@code -Dhearth.benchmark.ways=persistent,local} leaves out the
 * ways not named. The table is printed and written to {@code
 * e2e/target/benchmarks/persistent-workers.md}. It asserts only that every build built what it
 * should, never a time.
 */
class PersistentWorkersBenchmark {
  private static final int ROUNDS = Integer.getInteger("hearth.benchmark.rounds", 5);
  private static final String SERVER_JAVA_OPTS =
      System.getProperty("hearth.benchmark.serverJavaOpts", "").trim();
  private static final List<String> WAYS =
      List.of(System.getProperty("hearth.benchmark.ways", "persistent,fresh,local").split(","));
  private static final String SERVER_JAR = "server/target/hearth-server-0.1.0-SNAPSHOT-all.jar";
  private static final int JOBS = 4;
  private static final int MAX_PER_KEY = 4;
  private static final Duration BUILD_TIMEOUT = Duration.ofMinutes(15);

  private record Way(String name, List<Duration> times) {
    Duration median() {
      List<Duration> sorted = new ArrayList<>(times);
      Collections.sort(sorted);
      return sorted.get(sorted.size() / 2);
    }
  }

  @Test
  void measure(@TempDir Path storage) throws IOException {
    List<Way> ways = new ArrayList<>();
    if (WAYS.contains("persistent")) {
      ways.add(hearth("Hearth, persistent workers", storage.resolve("persistent"), true));
    }
    if (WAYS.contains("fresh")) {
      ways.add(hearth("Hearth, a fresh process per action", storage.resolve("fresh"), false));
    }
    if (WAYS.contains("local")) {
      ways.add(local("Bazel local workers (--strategy=JavaLib=worker)"));
    }
    assertThat(ways).as("ways named by hearth.benchmark.ways: %s", WAYS).isNotEmpty();

    String table = report(ways);
    System.out.println(table);
    Path out = E2eDirectories.target().resolve("benchmarks/persistent-workers.md");
    Files.createDirectories(out.getParent());
    Files.writeString(out, table, StandardCharsets.UTF_8);
  }

  private Way hearth(String name, Path storage, boolean persistentWorkers) throws IOException {
    WorkerSetup worker = WorkerSetup.linux("bench", JOBS, storage.resolve("workers"));
    BazelWorkspace workspace = JavacWorkspaceLocalE2eTest.prepare();
    JavaWorkspace java =
        JavaWorkspace.generate(workspace.root(), JavacWorkspaceLocalE2eTest.LIBRARIES);
    String settings =
        persistentWorkers
            ? "{\"maxProcessesPerKey\": " + MAX_PER_KEY + "}"
            : "{\"enabled\": false}";
    int port = DeploymentExample.freePort();
    Files.createDirectories(storage);
    Path config = storage.resolve("hearth-config.json");
    Files.writeString(
        config,
        HearthConfigs.remoteExecutionJson(
            storage,
            "10m",
            List.of(worker),
            "127.0.0.1:" + port,
            "\"persistentWorkers\": " + settings),
        StandardCharsets.UTF_8);
    Path log = storage.resolve("server.log");
    Process server = Processes.start(Processes.logging(serverCommand(config), log));
    try {
      Processes.awaitLogLine(server, log, "Serving REAPI over gRPC");
      try (Bazel bazel = Bazel.open(workspace, PersistentWorkersBenchmark.class, BUILD_TIMEOUT)) {
        String[] flags = {
          "--noremote_accept_cached",
          "--remote_executor=grpc://localhost:" + port,
          "--remote_default_exec_properties=OSFamily=Linux",
          "--remote_default_exec_properties=persistentWorkerKey=javac-bench",
          "--spawn_strategy=remote",
          "--jobs=" + JOBS,
          "//..."
        };
        return rounds(name, bazel, java, flags);
      }
    } finally {
      Processes.stop(server, Duration.ofSeconds(30), new ArrayList<>());
    }
  }

  /**
   * {@code java [serverJavaOpts] -jar hearth-server-…-all.jar serve CONFIG}: the command {@code
   * ./hearth serve CONFIG} ends in, on the jar the build under test packaged.
   */
  private static List<String> serverCommand(Path config) {
    Path jar = E2eDirectories.target().getParent().getParent().resolve(SERVER_JAR);
    assertThat(jar)
        .as("the server's runnable jar; build it with ./mvnw -B -pl e2e -am verify ...")
        .isRegularFile();
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    if (!SERVER_JAVA_OPTS.isEmpty()) {
      command.addAll(List.of(SERVER_JAVA_OPTS.split("\\s+")));
    }
    command.addAll(List.of("-jar", jar.toString(), "serve", config.toString()));
    return command;
  }

  private Way local(String name) throws IOException {
    BazelWorkspace workspace = JavacWorkspaceLocalE2eTest.prepare();
    JavaWorkspace java =
        JavaWorkspace.generate(workspace.root(), JavacWorkspaceLocalE2eTest.LIBRARIES);
    try (Bazel bazel = Bazel.open(workspace, PersistentWorkersBenchmark.class, BUILD_TIMEOUT)) {
      String[] flags = {
        "--strategy=JavaLib=worker",
        "--worker_max_instances=" + MAX_PER_KEY,
        "--jobs=" + JOBS,
        "//..."
      };
      return rounds(name, bazel, java, flags);
    }
  }

  private Way rounds(String name, Bazel bazel, JavaWorkspace java, String[] flags)
      throws IOException {
    List<Duration> times = new ArrayList<>();
    for (int i = 0; i < ROUNDS; i++) {
      if (i > 0) {
        bazel.clean(); // the first build is the one after the start: nothing to clean
      }
      long start = System.nanoTime();
      bazel.build(flags);
      times.add(Duration.ofNanos(System.nanoTime() - start));
      List<Path> jars = java.jars().stream().map(bazel.bazelBin()::resolve).toList();
      assertThat(JavacWorkspaceLocalE2eTest.runApp(jars)).isEqualTo(java.expectedOutput());
    }
    return new Way(name, times);
  }

  private static String report(List<Way> ways) {
    StringBuilder text = new StringBuilder();
    text.append(
            String.format(
                Locale.ROOT,
                "Persistent-worker benchmark, %s, %d cores, %d libraries + app, --jobs=%d,"
                    + " %d timed builds each from a cold start (fresh Bazel server, fresh Hearth"
                    + " server JVM%s), the first build after the start included%n%n",
                LocalDate.now(),
                Runtime.getRuntime().availableProcessors(),
                JavacWorkspaceLocalE2eTest.LIBRARIES,
                JOBS,
                ROUNDS,
                SERVER_JAVA_OPTS.isEmpty() ? "" : " with " + SERVER_JAVA_OPTS))
        .append("| way | median | builds, first to last |\n| --- | --- | --- |\n");
    for (Way way : ways) {
      text.append("| ")
          .append(way.name())
          .append(" | ")
          .append(seconds(way.median()))
          .append(" | ")
          .append(
              String.join(
                  ", ", way.times().stream().map(PersistentWorkersBenchmark::seconds).toList()))
          .append(" |\n");
    }
    Way persistent = named(ways, "persistent");
    Way fresh = named(ways, "fresh process");
    Way local = named(ways, "local");
    text.append('\n');
    if (persistent != null && fresh != null) {
      text.append(
          String.format(
              Locale.ROOT,
              "fresh / persistent = %.2fx (target >= 3x)%n",
              ratio(fresh.median(), persistent.median())));
    }
    if (persistent != null && local != null) {
      text.append(
          String.format(
              Locale.ROOT,
              "persistent / Bazel local workers = %.2fx (issue 18 target <= 1.0x from a cold"
                  + " server); first builds: %.2fx%n",
              ratio(persistent.median(), local.median()),
              ratio(persistent.times().get(0), local.times().get(0))));
    }
    return text.toString();
  }

  /** The way whose name contains {@code part}, or null when it was not measured. */
  private static Way named(List<Way> ways, String part) {
    return ways.stream().filter(w -> w.name().contains(part)).findFirst().orElse(null);
  }

  private static double ratio(Duration a, Duration b) {
    return (double) a.toNanos() / b.toNanos();
  }

  private static String seconds(Duration duration) {
    return String.format(Locale.ROOT, "%.2f s", duration.toMillis() / 1000.0);
  }
}
