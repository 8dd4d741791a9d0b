package build.hearth.e2e;

import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * What one {@code bazel} command did: its exit code and its output. Bazel writes its progress and
 * the process summary to stderr and only command results (for example {@code bazel info}) to
 * stdout. Immutable.
 *
 * @param commandLine the full command line, binary first
 * @param exitCode the client's exit code
 * @param stdout everything the client wrote to stdout
 * @param stderr everything the client wrote to stderr
 * @param logFile where stderr was saved, to point a reader of a failure at the full log
 * @param elapsed how long the client ran, from start to exit
 */
record BazelResult(
    List<String> commandLine,
    int exitCode,
    String stdout,
    String stderr,
    Path logFile,
    Duration elapsed) {

  BazelResult {
    commandLine = List.copyOf(commandLine);
  }

  /** Fails the test, quoting the end of Bazel's output, unless the command exited with 0. */
  BazelResult assertSuccess() {
    return assertExitCode(0);
  }

  /**
   * Fails the test, quoting the end of Bazel's output, unless the command exited with {@code
   * expected}. Bazel's codes include 1 (build failed), 3 (built, but tests failed or timed out) and
   * 8 (interrupted).
   */
  BazelResult assertExitCode(int expected) {
    if (exitCode != expected) {
      fail(
          "bazel exited with "
              + exitCode
              + " instead of "
              + expected
              + ": "
              + String.join(" ", commandLine)
              + "\n--- last lines of "
              + logFile
              + " ---\n"
              + lastLines(stderr, 60));
    }
    return this;
  }

  /** Everything the client printed, stdout then stderr. */
  String output() {
    return stdout + stderr;
  }

  /** The spawn counts from this command's final {@code INFO: N processes: ...} line. */
  ProcessSummary processSummary() {
    return ProcessSummary.parse(stderr);
  }

  static String lastLines(String text, int count) {
    List<String> lines = text.lines().toList();
    return String.join("\n", lines.subList(Math.max(0, lines.size() - count), lines.size()));
  }
}
