package build.hearth.examples.buildserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import build.hearth.core.Hearth;
import build.hearth.api.PoolStats;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The example builds its source tree on one warm javac process, then from the action cache. */
class EmbeddedBuildServerTest {
  private static final int LIBRARIES = 5;

  @Test
  void buildsOnOneWarmProcessThenFromTheActionCacheAcrossInstances(@TempDir Path work) {
    SampleProject.write(work.resolve("src"), LIBRARIES);

    String first;
    PoolStats stats;
    ByteArrayOutputStream printed = new ByteArrayOutputStream();
    try (Hearth hearth = EmbeddedBuildServer.open(work);
        PrintStream out = new PrintStream(printed, true, StandardCharsets.UTF_8)) {
      stats = server(hearth, work, out).build(LIBRARIES);
    }
    first = printed.toString(StandardCharsets.UTF_8);

    assertThat(first)
        .containsPattern("build +5 compiles in +\\d+ ms: 0 from the action cache, 5 executed")
        .containsPattern("rebuild +5 compiles in +\\d+ ms: 0 from the action cache, 5 executed")
        .containsPattern("cached +5 compiles in +\\d+ ms: 5 from the action cache, 0 executed");
    assertThat(stats.totals().spawns()).isEqualTo(1);
    assertThat(stats.totals().requests()).isEqualTo(2 * LIBRARIES);
    assertThat(stats.totals().warmRequests()).isEqualTo(2 * LIBRARIES - 1);
    assertThat(work.resolve("out").resolve("lib4.jar")).isNotEmptyFile();

    // The stores are on disk: a new instance over the same directory starts with every result.
    printed.reset();
    try (Hearth hearth = EmbeddedBuildServer.open(work);
        PrintStream out = new PrintStream(printed, true, StandardCharsets.UTF_8)) {
      server(hearth, work, out).build(LIBRARIES);
    }
    assertThat(printed.toString(StandardCharsets.UTF_8))
        .containsPattern("build +5 compiles in +\\d+ ms: 5 from the action cache, 0 executed");
  }

  private static EmbeddedBuildServer server(Hearth hearth, Path work, PrintStream out) {
    return new EmbeddedBuildServer(
        hearth, workerJar(), work.resolve("src"), work.resolve("out"), out);
  }

  /** Set by the pom; Hearth's build makes the jar. */
  private static Path workerJar() {
    String property = System.getProperty("javacWorkerJar", "");
    Path jar = Path.of(property.isEmpty() ? "../javac-worker/target/javac-worker.jar" : property);
    if (!Files.isRegularFile(jar)) {
      fail(
          "missing the javac worker jar "
              + jar.toAbsolutePath().normalize()
              + "; build Hearth first (./mvnw install -DskipTests at the repository root), or pass"
              + " -DjavacWorkerJar=/path/to/javac-worker.jar");
    }
    return jar;
  }
}
