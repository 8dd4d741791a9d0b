package build.hearth.examples.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import build.hearth.core.Hearth;
import build.hearth.core.persistent.PoolStats;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The example runs as its Javadoc says, and its compiles land on one warm javac process. */
class EmbeddedJavacTest {
  private static final int LIBRARIES = 6;

  @Test
  void compilesTheChainOnOneWarmProcessThenFromTheActionCache(@TempDir Path work)
      throws IOException {
    ByteArrayOutputStream printed = new ByteArrayOutputStream();
    PoolStats stats;
    try (Hearth hearth =
            Hearth.newBuilder()
                .blobStore("filesystem", Map.of("path", work.resolve("cas").toString()))
                .localExecution(work.resolve("exec"))
                .workerSlots(2)
                .build();
        PrintStream out = new PrintStream(printed, true, StandardCharsets.UTF_8)) {
      stats = new EmbeddedJavac(hearth, Files.readAllBytes(workerJar()), out).run(LIBRARIES);
    }

    String text = printed.toString(StandardCharsets.UTF_8);
    assertThat(text)
        .contains("cold    6 compiles")
        .contains("warm    6 compiles")
        .containsPattern("cached  6 compiles in +\\d+ ms \\(6 from the action cache\\)");
    assertThat(stats.totals().spawns()).isEqualTo(1);
    assertThat(stats.totals().requests()).isEqualTo(2 * LIBRARIES);
    assertThat(stats.totals().warmRequests()).isEqualTo(2 * LIBRARIES - 1);
  }

  private static Path workerJar() {
    Path jar = Path.of("..", "javac-worker", "target", "javac-worker.jar");
    if (!Files.isRegularFile(jar)) {
      fail(
          "missing "
              + jar.toAbsolutePath().normalize()
              + "; build it with ./mvnw -pl examples/javac-worker -am package -DskipTests");
    }
    return jar;
  }
}
