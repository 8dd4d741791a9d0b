package build.hearth.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Follows examples/embedded-build-server/README.md as a user would: builds the standalone example
 * with the repository's Maven wrapper against the Hearth artifacts in the local Maven repository,
 * then runs its jar twice over one work directory.
 */
class EmbeddedBuildServerE2eTest {
  private static final int LIBRARIES = 6;
  private static final long BUILD_TIMEOUT_MINUTES = 10;
  private static final long RUN_TIMEOUT_MINUTES = 5;

  @Test
  void theReadmeBuildsTheExampleAndItsSecondRunIsServedFromTheActionCache() throws IOException {
    Path root = E2eDirectories.target().getParent().getParent();
    Path workerJar = JavacWorkspaceLocalE2eTest.workerJar();
    Path logs = Files.createDirectories(E2eDirectories.target().resolve("embedded-build-server"));

    Processes.Finished build =
        Processes.runToEnd(
            List.of(
                root.resolve("mvnw").toString(),
                "-B",
                "-q",
                "-f",
                "examples/embedded-build-server/pom.xml",
                "package"),
            root,
            logs.resolve("mvnw-package.log"),
            BUILD_TIMEOUT_MINUTES);
    if (build.exitCode() != 0) {
      fail(
          "building examples/embedded-build-server failed (exit "
              + build.exitCode()
              + "). It builds against Hearth's artifacts in the local Maven repository:"
              + " if they are missing, run ./run-tests or ./mvnw install -DskipTests at the"
              + " repository root first. Maven said:\n"
              + tail(build.output()));
    }

    Path jar = root.resolve("examples/embedded-build-server/target/embedded-build-server.jar");
    Path work = logs.resolve("work");
    deleteRecursively(work);
    List<String> command =
        List.of(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-jar",
            jar.toString(),
            work.toString(),
            workerJar.toString(),
            Integer.toString(LIBRARIES));

    String first =
        succeed(Processes.runToEnd(command, root, logs.resolve("run-1.log"), RUN_TIMEOUT_MINUTES));
    assertThat(first)
        .containsPattern("build +6 compiles in +\\d+ ms: 0 from the action cache, 6 executed")
        .containsPattern("rebuild +6 compiles in +\\d+ ms: 0 from the action cache, 6 executed")
        .containsPattern("cached +6 compiles in +\\d+ ms: 6 from the action cache, 0 executed")
        // One javac process served all twelve compiles: only the first found it cold.
        .contains("persistent workers: 1 process(es) started, 12 requests (11 warm, 1 cold)");
    assertThat(work.resolve("out/lib5.jar")).isNotEmptyFile();

    String second =
        succeed(Processes.runToEnd(command, root, logs.resolve("run-2.log"), RUN_TIMEOUT_MINUTES));
    assertThat(second)
        .as("the second run finds every result of the first in the action cache on disk")
        .containsPattern("build +6 compiles in +\\d+ ms: 6 from the action cache, 0 executed")
        .containsPattern(
            "persistent workers: 1 process\\(es\\) started, 6 requests \\(5 warm, 1 cold\\)");
  }

  private static String succeed(Processes.Finished result) {
    if (result.exitCode() != 0) {
      fail("the example failed (exit " + result.exitCode() + "):\n" + tail(result.output()));
    }
    return result.output();
  }

  private static String tail(String output) {
    return output.length() <= 6000 ? output : "..." + output.substring(output.length() - 6000);
  }

  private static void deleteRecursively(Path directory) throws IOException {
    if (!Files.exists(directory)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(directory)) {
      for (Path path : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(path);
      }
    }
  }
}
