package build.hearth.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import picocli.CommandLine;

/**
 * The command line, and a run of the Execute driver with a handful of actions against a real
 * in-process server: that it completes, checks its answers, reports, and leaves nothing behind. No
 * timing is asserted; the verdicts may say PASS or MISS.
 */
class ExecuteLoadDriverTest {

  @Test
  void theJarNeedsTheNameOfADriver() {
    StringWriter err = new StringWriter();
    CommandLine cli = Benchmarks.commandLine();
    cli.setErr(new PrintWriter(err));

    assertThat(cli.execute()).isEqualTo(2);
    assertThat(err.toString())
        .contains(
            "name a load driver: cas, execute, sandbox-spawn, input-tree, crash, overload or redis");
  }

  @Test
  void everyDriverIsASubcommand() {
    StringWriter out = new StringWriter();
    CommandLine cli = Benchmarks.commandLine();
    cli.setOut(new PrintWriter(out));

    assertThat(cli.execute("cas", "--help")).isZero();
    assertThat(out.toString()).contains("--blob-mib");
    assertThat(cli.execute("execute", "--help")).isZero();
    assertThat(out.toString()).contains("--concurrency").contains("--cache-mode");
    assertThat(cli.execute("sandbox-spawn", "--help")).isZero();
    assertThat(out.toString()).contains("--spawns").contains("--linux-sandbox");
    assertThat(cli.execute("input-tree", "--help")).isZero();
    assertThat(out.toString()).contains("--directories").contains("--changed-percent");
    assertThat(cli.execute("crash", "--help")).isZero();
    assertThat(out.toString()).contains("--kills").contains("--max-load-millis");
    assertThat(cli.execute("overload", "--help")).isZero();
    assertThat(out.toString()).contains("--clients").contains("--heap");
  }

  @Test
  void actionCountsMustMatchTheConcurrencyLevels() {
    StringWriter err = new StringWriter();
    CommandLine cli = Benchmarks.commandLine();
    cli.setErr(new PrintWriter(err));

    assertThat(cli.execute("execute", "--concurrency", "1,32", "--actions", "5")).isEqualTo(2);
    assertThat(err.toString()).contains("--actions needs one value per --concurrency value");
  }

  @ParameterizedTest
  @EnumSource(ExecuteLoadDriver.CacheMode.class)
  void aShortRunReportsBothTargetsAndDeletesItsDirectory(
      ExecuteLoadDriver.CacheMode mode, @TempDir Path tmp) throws IOException {
    ByteArrayOutputStream report = new ByteArrayOutputStream();
    ByteArrayOutputStream progress = new ByteArrayOutputStream();
    ExecuteLoadDriver driver =
        new ExecuteLoadDriver(
            new PrintStream(report, true, StandardCharsets.UTF_8),
            new PrintStream(progress, true, StandardCharsets.UTF_8));

    int exit =
        new CommandLine(driver)
            .execute(
                "--concurrency", "1,3",
                "--actions", "4,6",
                "--warmup", "2",
                "--cache-mode", mode.name(),
                "--tmp", tmp.toString());

    assertThat(exit).as(progress.toString(StandardCharsets.UTF_8)).isZero();
    String text = report.toString(StandardCharsets.UTF_8);
    assertThat(text)
        .contains("## Hearth remote-execution overhead")
        .contains("| Hearth Execute over gRPC | 3 | 6 (+ 2) |")
        .contains("| Direct spawn (ProcessBuilder) | 1 | 4 (+ 2) |")
        .contains("| total, as the client sees it |")
        .containsPattern(
            "CPU per action: JVM [0-9.]+ ms .*; of the JVM's, the driver's client [0-9.]+ ms and the JIT compiler [0-9.]+ ms")
        .containsPattern("\\| p50 overhead at concurrency 1 .* \\| (PASS|MISS) \\|")
        .containsPattern("\\| Hearth throughput at concurrency 3 .* \\| (PASS|MISS) \\|");
    try (Stream<Path> left = Files.list(tmp)) {
      assertThat(left).isEmpty();
    }
  }
}
