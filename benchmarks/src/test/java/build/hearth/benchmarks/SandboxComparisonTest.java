package build.hearth.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Optional;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The sandbox comparison's arithmetic and verdicts on made-up numbers, and the driver's checks of
 * {@code --sandbox}; nothing is timed.
 */
class SandboxComparisonTest {

  @Test
  void eachSettingIsComparedWithTheFirstAtItsConcurrency() {
    SandboxComparison comparison = new SandboxComparison();
    comparison.add("off", run(1, 1.5, 2.0, 2.5, 1.0));
    comparison.add("required", run(1, 2.5, 2.8, 3.0, 2.0));
    comparison.add("off", run(32, 15, 20, 30, 0.75));
    comparison.add("required", run(32, 20, 25, 30, 1.0));

    String text = comparison.render();

    assertThat(text)
        .contains("## Sandboxed against unsandboxed workers")
        .contains("| `off` | 1 | 3 (+ 7) | 2.00 ms | 1.50 ms | 2.50 ms | 3.00 /s |")
        .contains("| `required` | 1 | 3 (+ 7) | 2.80 ms | 2.50 ms | 3.00 ms | 1.50 /s |")
        .contains("| p50, `required` over `off`, concurrency 1 | 0.80 ms | <= 1.00 ms | PASS |")
        .contains("| min, `required` over `off`, concurrency 1 | 1.00 ms | <= 3.00 ms | PASS |")
        .contains("| p50, `required` over `off`, concurrency 32 | 5.00 ms | <= 1.00 ms | MISS |")
        .contains("| min, `required` over `off`, concurrency 32 | 5.00 ms | <= 3.00 ms | MISS |")
        .contains(
            "| throughput, `required` over `off`, concurrency 32 | 3.00 /s against 4.00 /s"
                + " (-25%) |");
  }

  @Test
  void nothingMeasuredIsAnError() {
    assertThatThrownBy(() -> new SandboxComparison().render())
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void unknownOrRepeatedSettingsAreRefused() {
    StringWriter err = new StringWriter();
    CommandLine cli = Benchmarks.commandLine();
    cli.setErr(new PrintWriter(err));

    assertThat(cli.execute("execute", "--sandbox", "off,strict")).isEqualTo(2);
    assertThat(err.toString())
        .contains("--sandbox values must be among [off, optional, required], got 'strict'");
    assertThat(cli.execute("execute", "--sandbox", "off,off")).isEqualTo(2);
    assertThat(err.toString()).contains("--sandbox names a setting twice: [off, off]");
  }

  /** Three measured actions taking {@code min}, {@code p50} and {@code max} ms. */
  private static LoadRun run(
      int concurrency, double min, double p50, double max, double wallSeconds) {
    long[] nanos =
        LongStream.of(Math.round(min * 1e6), Math.round(p50 * 1e6), Math.round(max * 1e6))
            .toArray();
    return new LoadRun(
        concurrency,
        new Measurement("x", "1 action", "actions/s", 1, 7, nanos),
        Math.round(wallSeconds * 1e9),
        "",
        Optional.empty());
  }
}
