package build.hearth.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Builds examples/run-in-directory, the one-file embedding example, against the Hearth artifacts in
 * the local Maven repository, as a user would, and runs it on a directory: its output is the
 * command's, run on the uploaded tree.
 */
class RunInDirectoryE2eTest {
  private static final long BUILD_TIMEOUT_MINUTES = 10;
  private static final long RUN_TIMEOUT_MINUTES = 2;

  @Test
  void theExamplePutsADirectoryRunsACommandOnItAndPrintsItsOutput() throws IOException {
    Path root = E2eDirectories.target().getParent().getParent();
    Path logs = Files.createDirectories(E2eDirectories.target().resolve("run-in-directory"));
    Processes.Finished build =
        Processes.runToEnd(
            List.of(
                root.resolve("mvnw").toString(),
                "-B",
                "-q",
                "-f",
                "examples/run-in-directory/pom.xml",
                "package"),
            root,
            logs.resolve("mvnw-package.log"),
            BUILD_TIMEOUT_MINUTES);
    assertThat(build.exitCode())
        .as(
            "building examples/run-in-directory against the installed artifacts (./mvnw install"
                + " -DskipTests first); Maven said:%n%s",
            build.output())
        .isZero();

    Path input = Files.createDirectories(logs.resolve("input/sub"));
    Files.writeString(input.resolveSibling("hello.txt"), "hello\n");
    Files.writeString(input.resolve("more.txt"), "from a subdirectory\n");
    Path jar = root.resolve("examples/run-in-directory/target/run-in-directory.jar");
    Processes.Finished result =
        Processes.runToEnd(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar",
                jar.toString(),
                logs.resolve("input").toString(),
                "cat",
                "hello.txt",
                "sub/more.txt"),
            root,
            logs.resolve("run.log"),
            RUN_TIMEOUT_MINUTES);
    assertThat(result.exitCode()).as("exit code; output:%n%s", result.output()).isZero();
    assertThat(result.output())
        .as("the command's output, printed by the example")
        .contains("hello\nfrom a subdirectory\n");
  }
}
