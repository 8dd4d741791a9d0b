package build.hearth.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import build.hearth.server.HearthServer;
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
 * {@code javac} workspace with Bazel 4.2.3, in one run, three ways:
 *
 * <ol>
 *   <li><b>Hearth, persistent</b>: remote execution on Hearth's in-process worker, every compile a
 *       request to a warm javac worker process;
 *   <li><b>Hearth, fresh processes</b>: the same, with persistent workers disabled, so every
 *       compile starts a JVM ({@code java -jar javac-worker.jar @params}, the tool's one-shot
 *       mode);
 *   <li><b>Bazel local workers</b>: no Hearth; Bazel's own worker strategy.
 * </ol>
 *
 * Each way gets one warm-up build, then {@code ROUNDS} timed clean builds ({@code bazel clean},
 * then a build with {@code --noremote_accept_cached} for Hearth). Wall time is measured around the
 * Bazel client, median reported. Not part of the test suite (its name does not end in Test); run it
 * with:
 *
 * <pre>
 * ./mvnw -B -pl e2e -am verify -Dtest=PersistentWorkersBenchmark -Dsurefire.failIfNoSpecifiedTests=false
 * </pre>
 *
 * The table is printed and written to {@code e2e/target/benchmarks/persistent-workers.md}. It
 * asserts only that every build built what it should, never a time.
 */
class PersistentWorkersBenchmark {
  private static final int ROUNDS = Integer.getInteger("hearth.benchmark.rounds", 3);
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
    Way persistent = hearth("Hearth, persistent workers", storage.resolve("persistent"), true);
    Way fresh = hearth("Hearth, a fresh process per action", storage.resolve("fresh"), false);
    Way local = local("Bazel local workers (--strategy=JavaLib=worker)");

    String table = report(List.of(persistent, fresh, local), persistent, fresh, local);
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
    try (HearthServer hearth =
            HearthServer.start(
                HearthConfigs.remoteExecution(
                    storage, "10m", List.of(worker), "\"persistentWorkers\": " + settings));
        Bazel bazel = Bazel.open(workspace, PersistentWorkersBenchmark.class, BUILD_TIMEOUT)) {
      String[] flags = {
        "--noremote_accept_cached",
        "--remote_executor=grpc://localhost:" + hearth.port(),
        "--remote_default_exec_properties=OSFamily=Linux",
        "--remote_default_exec_properties=persistentWorkerKey=javac-bench",
        "--spawn_strategy=remote",
        "--jobs=" + JOBS,
        "//..."
      };
      return rounds(name, bazel, java, flags);
    }
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
    bazel.build(flags); // warm-up: starts the Bazel server and the workers
    List<Duration> times = new ArrayList<>();
    for (int i = 0; i < ROUNDS; i++) {
      bazel.clean();
      long start = System.nanoTime();
      bazel.build(flags);
      times.add(Duration.ofNanos(System.nanoTime() - start));
      List<Path> jars = java.jars().stream().map(bazel.bazelBin()::resolve).toList();
      assertThat(JavacWorkspaceLocalE2eTest.runApp(jars)).isEqualTo(java.expectedOutput());
    }
    return new Way(name, times);
  }

  private static String report(List<Way> ways, Way persistent, Way fresh, Way local) {
    StringBuilder text = new StringBuilder();
    text.append(
            String.format(
                Locale.ROOT,
                "Persistent-worker benchmark, %s, %d cores, %d libraries + app, --jobs=%d,"
                    + " %d timed clean builds each after one warm-up%n%n",
                LocalDate.now(),
                Runtime.getRuntime().availableProcessors(),
                JavacWorkspaceLocalE2eTest.LIBRARIES,
                JOBS,
                ROUNDS))
        .append("| way | median | all builds |\n| --- | --- | --- |\n");
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
    double speedup = ratio(fresh.median(), persistent.median());
    double versusLocal = ratio(persistent.median(), local.median());
    text.append(
        String.format(
            Locale.ROOT,
            "%nfresh / persistent = %.2fx (target >= 3x); persistent / Bazel local workers ="
                + " %.2fx (target <= 1.3x)%n",
            speedup,
            versusLocal));
    return text.toString();
  }

  private static double ratio(Duration a, Duration b) {
    return (double) a.toNanos() / b.toNanos();
  }

  private static String seconds(Duration duration) {
    return String.format(Locale.ROOT, "%.2f s", duration.toMillis() / 1000.0);
  }
}
