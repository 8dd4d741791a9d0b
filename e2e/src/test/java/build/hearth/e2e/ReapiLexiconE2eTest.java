package build.hearth.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import build.hearth.core.config.HearthConfig;
import build.hearth.core.scheduler.PlatformLexicon;
import build.hearth.server.HearthServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bazel 4.2.3 speaks REAPI to the embedded default configuration (only its directories and port
 * moved into the test's): the platform lexicon's {@code OSFamily=linux} and {@code ISA}, a {@code
 * cache-silo-key} that separates action-cache entries, and a remotable repository rule that runs a
 * script uploaded from the workspace by its bare name, as in Bazel's own {@code
 * test_repo_remote_exec_file_upload}.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ReapiLexiconE2eTest {
  /** Bazel's exit code for a remote execution error. */
  private static final int REMOTE_ERROR = 34;

  /** Far below the default scheduler's one-hour queue time: the refusal must not wait. */
  private static final Duration PROMPT_FAILURE = Duration.ofSeconds(20);

  private static final String TARGET = "//:platform";

  @TempDir static Path storage;
  private static HearthServer hearth;
  private static Bazel bazel;
  private static String executor;

  @BeforeAll
  static void start() {
    hearth = HearthServer.start(defaultConfigUnder(storage));
    bazel = Bazel.open(BazelWorkspace.fromTemplate("reapi"), ReapiLexiconE2eTest.class);
    executor = "--remote_executor=grpc://localhost:" + hearth.port();
  }

  @AfterAll
  static void stop() {
    if (bazel != null) {
      bazel.close();
    }
    if (hearth != null) {
      hearth.close();
    }
  }

  /**
   * The embedded default, with its {@code ~/.cache/hearth} directories under {@code root} and any
   * free port instead of 50052; everything else as {@code ./hearth serve} runs it.
   */
  private static HearthConfig defaultConfigUnder(Path root) {
    try (InputStream in =
        HearthConfig.class.getResourceAsStream("/build/hearth/core/config/default-config.json")) {
      String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      assertThat(text).contains("~/.cache/hearth").contains("127.0.0.1:50052");
      return HearthConfig.parse(
          text.replace("~/.cache/hearth", root.toString())
              .replace("127.0.0.1:50052", "127.0.0.1:0"),
          "the embedded default, moved under " + root);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Test
  @Order(1)
  void osFamilyLinuxWithTheMachinesIsaRunsRemotely() {
    String isa =
        PlatformLexicon.isa(System.getProperty("os.arch"))
            .orElseThrow(() -> new AssertionError("no ISA for " + System.getProperty("os.arch")));

    BazelResult result =
        bazel.build(
            executor,
            "--remote_default_exec_properties=OSFamily=linux",
            "--remote_default_exec_properties=ISA=" + isa,
            TARGET);

    ProcessSummary summary = result.processSummary();
    assertThat(summary.spawns()).as("spawns: %s", summary).isPositive();
    assertThat(summary.remotelyExecuted()).as("%s", summary).isEqualTo(summary.spawns());
    bazel.clean();
  }

  @Test
  @Order(2)
  void osFamilyWindowsFailsAtOnceNamingTheProperty() {
    BazelResult result =
        bazel.run("build", executor, "--remote_default_exec_properties=OSFamily=windows", TARGET);

    result.assertExitCode(REMOTE_ERROR);
    assertThat(result.output())
        .contains("FAILED_PRECONDITION")
        .contains("no connected worker offers OSFamily=windows")
        .contains("workers offer OSFamily: linux");
    assertThat(result.elapsed()).isLessThan(PROMPT_FAILURE);
  }

  @Test
  @Order(3)
  void buildsDifferingOnlyInCacheSiloKeyRunRemotelyAndShareNoActionCacheEntry() throws IOException {
    String siloA = "--remote_default_exec_properties=cache-silo-key=team-a";
    String siloB = "--remote_default_exec_properties=cache-silo-key=team-b";
    bazel.clean();
    long before = actionCacheEntries();

    ProcessSummary a = bazel.build(executor, siloA, TARGET).processSummary();
    long afterA = actionCacheEntries();
    bazel.clean();
    ProcessSummary b = bazel.build(executor, siloB, TARGET).processSummary();
    long afterB = actionCacheEntries();
    bazel.clean();
    ProcessSummary againA = bazel.build(executor, siloA, TARGET).processSummary();

    assertThat(a.spawns()).as("%s", a).isPositive();
    assertThat(a.remotelyExecuted()).as("silo a: %s", a).isEqualTo(a.spawns());
    assertThat(b.remotelyExecuted())
        .as("silo b must not be served silo a's results: %s", b)
        .isEqualTo(b.spawns());
    assertThat(b.remoteCacheHits()).as("%s", b).isZero();
    assertThat(afterA - before).as("entries silo a added").isEqualTo(a.spawns());
    assertThat(afterB - afterA).as("entries silo b added").isEqualTo(b.spawns());
    // Each silo keeps its own entries: silo a again is a cache hit, not a run.
    assertThat(againA.remoteCacheHits()).as("silo a again: %s", againA).isEqualTo(a.spawns());
    assertThat(againA.remotelyExecuted()).as("%s", againA).isZero();
    bazel.clean();
  }

  @Test
  @Order(4)
  void aRemotableRepositoryRuleRunsItsUploadedScriptOnHearth() throws IOException {
    BazelResult result =
        bazel.run("fetch", executor, "--experimental_repo_remote_exec", "@remote_foo//:all");

    result.assertSuccess();
    Path where = Path.of(bazel.info("output_base")).resolve("external/remote_foo/where.txt");
    assertThat(Files.readString(where).trim())
        .as("the directory the rule's commands ran in")
        .startsWith(storage.resolve("work/local").toString());
  }

  private static long actionCacheEntries() throws IOException {
    Path entries = storage.resolve("ac/ac");
    if (!Files.isDirectory(entries)) {
      return 0;
    }
    try (Stream<Path> walk = Files.walk(entries)) {
      return walk.filter(Files::isRegularFile).count();
    }
  }
}
