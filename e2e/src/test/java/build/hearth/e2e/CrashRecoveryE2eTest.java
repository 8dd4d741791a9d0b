package build.hearth.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import build.hearth.benchmarks.CrashLoadDriver;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Issue 15's crash suite: a real {@code hearth serve} process with the {@code filesystem} CAS and
 * action cache is killed with SIGKILL at 20 random points of a mixed write load (ByteStream writes
 * up to 3 MiB, BatchUpdateBlobs, UpdateActionResult referencing written blobs, reads) and restarted
 * after each. After every restart each acknowledged blob is there and hashes to its digest, each
 * acknowledged action-cache entry is returned with its blobs, and the store's counts in {@code
 * /metrics} match the files on disk; no read during the load returned other bytes. The driver is
 * {@link CrashLoadDriver} ({@code hearth-benchmarks.jar crash}), which runs longer by hand. The
 * stores and the server's log are kept in {@code target/crash-recovery}.
 */
class CrashRecoveryE2eTest {
  private static final int KILLS = 20;

  @Test
  void everyAcknowledgedWriteSurvivesTwentyKillsAndNothingCorruptIsServed() throws IOException {
    Path dir = E2eDirectories.target().resolve("crash-recovery");
    deleteRecursively(dir);
    Files.createDirectories(dir);

    CrashLoadDriver.Result result = CrashLoadDriver.run(dir, KILLS, 3, 15, System.err);

    System.err.print(result.markdown());
    assertThat(result.problems()).as("what was lost, corrupt or miscounted").isEmpty();
    assertThat(result.kills()).isEqualTo(KILLS);
    // Every kill came after a write of its load was acknowledged, so the load was real.
    assertThat(result.blobs()).as("acknowledged blobs").isGreaterThanOrEqualTo(KILLS);
    assertThat(result.results()).as("acknowledged action-cache entries").isPositive();
    assertThat(result.blobBytes()).as("acknowledged bytes").isGreaterThan(1 << 20);
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
