package build.hearth.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The input-tree driver end to end on a small tree: it runs every phase through the real exec roots
 * and {@code cp -al}, checks that each sync replaced exactly the changed files (else it exits 1),
 * and prints its report. No figure is asserted.
 */
class InputTreeDriverTest {
  @TempDir Path tempDir;

  @Test
  void aSmallTreeRunsEveryPhaseAndReportsTheTargets() {
    PrintStream stdout = System.out;
    ByteArrayOutputStream report = new ByteArrayOutputStream();
    int exit;
    try {
      System.setOut(new PrintStream(report, true, StandardCharsets.UTF_8));
      exit =
          Benchmarks.commandLine()
              .execute(
                  "input-tree",
                  "--files",
                  "60",
                  "--directories",
                  "6",
                  "--changed-percent",
                  "10",
                  "--warmup",
                  "1",
                  "--iterations",
                  "2",
                  "--tmp",
                  tempDir.toString());
    } finally {
      System.setOut(stdout);
    }

    assertThat(exit).isZero();
    assertThat(report.toString(StandardCharsets.UTF_8))
        .contains("60 files of 256 bytes in 6 directories")
        .contains("differs in 6 files")
        .contains("| exec-root set-up / `cp -al` |")
        .contains("| validation + FindMissing |")
        .contains("| persistent worker, 10.0% changed: inputFiles + sync |");
  }
}
