package build.hearth.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import build.hearth.server.HearthServer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.SortedMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bazel 4.2.3 uses an in-process Hearth as its remote cache: after {@code bazel clean}, a rebuild
 * of the {@code cache} workspace (22 spawns: a six-step genrule chain, a directory output and its
 * consumer, a 50 MiB file, an empty file, independent genrules) must be served entirely from Hearth
 * and reproduce every output byte for byte.
 */
class RemoteCacheE2eTest {
  /** The workspace holds 22 spawns; fewer would mean Bazel skipped some or the template shrank. */
  private static final int MINIMUM_SPAWNS = 20;

  @Test
  void cleanRebuildIsServedEntirelyFromHearth(@TempDir Path storage) throws IOException {
    BazelWorkspace workspace = BazelWorkspace.fromTemplate("cache");
    try (HearthServer hearth = HearthServer.start(HearthConfigs.filesystemCache(storage));
        Bazel bazel = Bazel.open(workspace, RemoteCacheE2eTest.class)) {
      String remoteCache = "--remote_cache=grpc://localhost:" + hearth.port();

      ProcessSummary first = bazel.build(remoteCache, "//...").processSummary();
      // The first build must really run the actions here, or the rebuild proves nothing.
      assertThat(first.remoteCacheHits()).as("cache hits of the first build: %s", first).isZero();
      assertThat(first.spawns())
          .as("spawns of the first build: %s", first)
          .isGreaterThanOrEqualTo(MINIMUM_SPAWNS);
      assertThat(first.executedLocally())
          .as("local spawns of the first build: %s", first)
          .isEqualTo(first.spawns());

      SortedMap<String, String> firstOutputs = OutputFiles.sha256(bazel.bazelBin());
      OutputFiles.assertTemplateOutputs(
          bazel.bazelBin(), firstOutputs, "tree/nested/beta.txt", "tree/nested/deeper/rows.txt");

      bazel.clean();
      assertThat(workspace.resolve("bazel-bin/manifest.txt"))
          .as("outputs after bazel clean")
          .doesNotExist();

      ProcessSummary second = bazel.build(remoteCache, "//...").processSummary();
      assertThat(second.executedLocally()).as("local spawns of the rebuild: %s", second).isZero();
      assertThat(second.remotelyExecuted())
          .as("remote executions of the rebuild: %s", second)
          .isZero();
      assertThat(second.remoteCacheHits())
          .as("cache hits of the rebuild: %s (first build: %s)", second, first)
          .isEqualTo(second.spawns())
          .isEqualTo(first.spawns())
          .isGreaterThanOrEqualTo(MINIMUM_SPAWNS);

      SortedMap<String, String> secondOutputs = OutputFiles.sha256(bazel.bazelBin());
      assertThat(secondOutputs).as("outputs rebuilt from the cache").isEqualTo(firstOutputs);
    }
  }
}
