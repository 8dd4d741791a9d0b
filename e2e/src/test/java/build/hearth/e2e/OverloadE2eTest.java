package build.hearth.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import build.hearth.benchmarks.OverloadDriver;
import io.grpc.Status;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Issue 15's overload suite, bounded: a real {@code hearth serve} process with {@code -Xmx256m},
 * the {@code filesystem} stores and an in-process worker, driven for 20 seconds by 64 concurrent
 * clients uploading, reading and executing. No status other than {@code OK} or {@code
 * RESOURCE_EXHAUSTED}, no read of other bytes, no {@code OutOfMemoryError}, and afterwards every
 * acknowledged blob reads back and verifies. The driver is {@link OverloadDriver} ({@code
 * hearth-benchmarks.jar overload}), run for 60 s by hand for the figures in docs/reliability.md.
 * The stores and the server's log are kept in {@code target/overload}.
 */
class OverloadE2eTest {
  @Test
  void sixtyFourClientsOnASmallHeapGetOnlyOkOrResourceExhaustedAndLoseNothing() throws IOException {
    Path dir = E2eDirectories.target().resolve("overload");
    deleteRecursively(dir);
    Files.createDirectories(dir);

    OverloadDriver.Result result = OverloadDriver.run(dir, 64, 20, "256m", System.err);

    System.err.print(result.markdown());
    assertThat(result.problems()).as("what went wrong under the load").isEmpty();
    result
        .ops()
        .forEach(
            (op, stats) ->
                assertThat(stats.statuses().getOrDefault(Status.Code.OK, 0L))
                    .as("%s calls that succeeded", op)
                    .isPositive());
    assertThat(result.blobsVerified()).as("acknowledged blobs read back").isPositive();
  }

  private static void deleteRecursively(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path path : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(path);
      }
    }
  }
}
