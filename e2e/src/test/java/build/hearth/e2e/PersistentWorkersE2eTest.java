package build.hearth.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import build.hearth.api.PoolStats;
import build.hearth.server.HearthServer;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The 41-target {@code javac} workspace built by Bazel 4.2.3 with remote execution on Hearth, every
 * compile a request to a persistent javac worker ({@code examples/javac-worker}) on the server's
 * in-process worker: Bazel sends nothing but {@code persistentWorkerKey} (it cannot mark tool
 * inputs), and Hearth splits the command line, keys the pool on the tool files, keeps the processes
 * within the per-key limit, and serves a second clean build, with the action cache bypassed, from
 * warm processes.
 */
class PersistentWorkersE2eTest {
  private static final int COMPILES = JavacWorkspaceLocalE2eTest.LIBRARIES + 1;
  private static final int MAX_PER_KEY = 3;
  private static final String KEY = "javac-e2e";
  private static final Duration BUILD_TIMEOUT = Duration.ofMinutes(6);

  @Test
  void everyCompileRunsRemotelyOnAPersistentProcessAndACleanRebuildIsWarm(@TempDir Path storage)
      throws IOException {
    WorkerSetup worker = WorkerSetup.linux("javac-host", 4, storage.resolve("workers"));
    BazelWorkspace workspace = JavacWorkspaceLocalE2eTest.prepare();
    JavaWorkspace java =
        JavaWorkspace.generate(workspace.root(), JavacWorkspaceLocalE2eTest.LIBRARIES);
    try (HearthServer hearth =
            HearthServer.start(
                HearthConfigs.remoteExecution(
                    storage,
                    "10m",
                    List.of(worker),
                    "\"persistentWorkers\": {\"maxProcessesPerKey\": " + MAX_PER_KEY + "}"));
        Bazel bazel = Bazel.open(workspace, PersistentWorkersE2eTest.class, BUILD_TIMEOUT)) {
      String[] flags = {
        "--remote_executor=grpc://localhost:" + hearth.port(),
        "--remote_default_exec_properties=OSFamily=Linux",
        "--remote_default_exec_properties=persistentWorkerKey=" + KEY,
        "--spawn_strategy=remote",
        "--jobs=8",
        "//..."
      };

      BazelResult first = bazel.build(flags);
      ProcessSummary firstSummary = first.processSummary();
      assertThat(firstSummary.remotelyExecuted())
          .as("every compile ran remotely: %s", firstSummary)
          .isEqualTo(COMPILES);
      assertThat(JavacWorkspaceLocalE2eTest.runApp(jars(bazel, java)))
          .isEqualTo(java.expectedOutput());

      PoolStats.KeyStats afterFirst = onlyKey(hearth);
      assertThat(afterFirst.clientKey()).isEqualTo(KEY);
      assertThat(afterFirst.counters().requests())
          .as("one worker request per compile")
          .isEqualTo(COMPILES);
      assertThat(afterFirst.maxAlive())
          .as("processes alive at once never exceed the per-key limit")
          .isBetween(1, MAX_PER_KEY);
      assertThat(afterFirst.counters().retiredTotal()).isZero();

      bazel.clean();
      BazelResult second = bazel.build(withFirst("--noremote_accept_cached", flags));
      ProcessSummary secondSummary = second.processSummary();
      assertThat(secondSummary.remotelyExecuted())
          .as("the action cache was bypassed: %s", secondSummary)
          .isEqualTo(COMPILES);
      assertThat(JavacWorkspaceLocalE2eTest.runApp(jars(bazel, java)))
          .isEqualTo(java.expectedOutput());

      PoolStats.KeyStats afterSecond = onlyKey(hearth);
      long requests = afterSecond.counters().requests() - afterFirst.counters().requests();
      long warm = afterSecond.counters().warmRequests() - afterFirst.counters().warmRequests();
      assertThat(requests).isEqualTo(COMPILES);
      assertThat((double) warm / requests)
          .as(
              "share of the second build's requests served by a warm process (%d of %d)",
              warm, requests)
          .isGreaterThanOrEqualTo(0.95);
      assertThat(afterSecond.maxAlive()).isLessThanOrEqualTo(MAX_PER_KEY);
    }
  }

  private static PoolStats.KeyStats onlyKey(HearthServer hearth) {
    Map<String, PoolStats> stats = hearth.persistentWorkerStats();
    assertThat(stats).containsOnlyKeys("javac-host");
    List<PoolStats.KeyStats> keys = stats.get("javac-host").keys();
    assertThat(keys).as("one pool key: the tool files did not change").hasSize(1);
    return keys.get(0);
  }

  private static List<Path> jars(Bazel bazel, JavaWorkspace java) {
    Path bin = bazel.bazelBin();
    return java.jars().stream().map(bin::resolve).toList();
  }

  private static String[] withFirst(String flag, String[] flags) {
    String[] all = new String[flags.length + 1];
    all[0] = flag;
    System.arraycopy(flags, 0, all, 1, flags.length);
    return all;
  }
}
