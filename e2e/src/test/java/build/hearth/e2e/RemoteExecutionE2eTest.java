package build.hearth.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import build.hearth.server.HearthServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SortedMap;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bazel 4.2.3 runs the whole {@code remote} workspace on Hearth's in-process workers with {@code
 * --remote_executor}: all 43 spawns (a genrule chain, a directory output, a 50 MiB output, tests
 * that pass and one that fails) execute remotely, the failing test is reported with its log, the
 * targets that ask for {@code pool=big} run on the only worker offering it, and after {@code bazel
 * clean} everything but the failing test comes from the action cache.
 */
class RemoteExecutionE2eTest {
  /**
   * Every spawn of {@code bazel test //...} in the workspace, counted in its top-level BUILD file.
   * Exact, because the rebuild's accounting below is exact.
   */
  private static final int SPAWNS = 43;

  private static final String FAILING_TEST = "//tests:failing_test";
  private static final List<String> PASSING_TESTS =
      List.of("//tests:big_test", "//tests:chain_test", "//tests:tree_test", "//tests:xml_test");
  private static final int BIG_POOL_TARGETS = 3;

  /** Bazel's exit code when the build succeeded but a test failed. */
  private static final int TESTS_FAILED = 3;

  @Test
  void everySpawnRunsRemotelyAndACleanRebuildComesFromTheActionCache(@TempDir Path storage)
      throws IOException {
    // The plain worker has more slots, so that an action ignoring its pool would likely land there.
    WorkerSetup plain = WorkerSetup.linux("plain", 4, storage.resolve("workers"));
    WorkerSetup big =
        WorkerSetup.linux("big", 1, storage.resolve("workers")).offering("pool", "big");
    BazelWorkspace workspace = BazelWorkspace.fromTemplate("remote");
    try (HearthServer hearth =
            HearthServer.start(HearthConfigs.remoteExecution(storage, "10m", List.of(plain, big)));
        Bazel bazel = Bazel.open(workspace, RemoteExecutionE2eTest.class)) {
      String executor = "--remote_executor=grpc://localhost:" + hearth.port();

      BazelResult first = bazel.run("test", executor, "--jobs=16", "--test_output=errors", "//...");
      first.assertExitCode(TESTS_FAILED);
      ProcessSummary firstSummary = first.processSummary();
      assertThat(firstSummary.spawns()).as("spawns: %s", firstSummary).isEqualTo(SPAWNS);
      assertThat(firstSummary.remotelyExecuted())
          .as("remote spawns of the first build: %s", firstSummary)
          .isEqualTo(SPAWNS);
      assertTestOutcomes(first, false);
      assertThat(first.output())
          .as("the failing test's log, shown by --test_output=errors")
          .contains(
              "Test output for "
                  + FAILING_TEST
                  + ":\nhearth-e2e: failing_test fails on purpose (exit 7)\n");
      assertThat(Files.readString(workspace.resolve("bazel-testlogs/tests/failing_test/test.log")))
          .contains("hearth-e2e: failing_test fails on purpose (exit 7)");

      Path bin = bazel.bazelBin();
      SortedMap<String, String> firstOutputs = OutputFiles.sha256(bin);
      OutputFiles.assertTemplateOutputs(bin, firstOutputs);
      assertWorkersOfRecordedActions(bin, plain, big);

      bazel.clean();
      assertThat(workspace.resolve("bazel-bin/manifest.txt")).doesNotExist();

      BazelResult second =
          bazel.run("test", executor, "--jobs=16", "--test_output=errors", "//...");
      second.assertExitCode(TESTS_FAILED);
      ProcessSummary secondSummary = second.processSummary();
      // A failed test is never cached, so exactly its one spawn runs again; it writes its own
      // test.xml, so no report-generating spawn follows it.
      assertThat(secondSummary.remotelyExecuted())
          .as("remote spawns of the rebuild: %s", secondSummary)
          .isEqualTo(1);
      assertThat(secondSummary.remoteCacheHits())
          .as("cache hits of the rebuild: %s", secondSummary)
          .isEqualTo(SPAWNS - 1);
      assertThat(secondSummary.executedLocally()).isZero();
      assertTestOutcomes(second, true);
      assertThat(OutputFiles.sha256(bazel.bazelBin()))
          .as("outputs rebuilt from the action cache")
          .isEqualTo(firstOutputs);
    }
  }

  /** One line per test in Bazel's summary: {@code //tests:chain_test (cached) PASSED in 0.1s}. */
  private static void assertTestOutcomes(BazelResult result, boolean passingCached) {
    String output = result.output();
    for (String test : PASSING_TESTS) {
      assertThat(output)
          .as("outcome of %s", test)
          .containsPattern(
              Pattern.compile(
                  "(?m)^"
                      + Pattern.quote(test)
                      + " +"
                      + (passingCached ? "\\(cached\\) " : "")
                      + "PASSED in "));
    }
    assertThat(output)
        .containsPattern(Pattern.compile("(?m)^" + Pattern.quote(FAILING_TEST) + " +FAILED in "))
        .contains("FAIL: " + FAILING_TEST + " (see ")
        .contains(
            "Executed "
                + (passingCached ? 1 : 5)
                + " out of 5 tests: 4 tests pass and 1 fails remotely.");
  }

  /**
   * Each {@code where} action printed its working directory, which lies in the exec root of the
   * worker that ran it. Pool targets must have run on the big worker; the others anywhere, but on
   * one of the two.
   */
  private static void assertWorkersOfRecordedActions(Path bin, WorkerSetup plain, WorkerSetup big)
      throws IOException {
    for (int i = 1; i <= BIG_POOL_TARGETS; i++) {
      String ranIn = Files.readString(bin.resolve("where/big_pool_" + i + ".txt"));
      assertThat(big.ran(ranIn))
          .as("big_pool_%d (exec_properties pool=big) ran in %s, not under %s", i, ranIn, big)
          .isTrue();
    }
    for (int i = 1; i <= 20; i++) {
      String ranIn = Files.readString(bin.resolve("where/where_" + i + ".txt"));
      assertThat(plain.ran(ranIn) || big.ran(ranIn))
          .as("where_%d ran in %s, under neither worker", i, ranIn)
          .isTrue();
    }
  }
}
