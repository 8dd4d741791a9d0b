package build.hearth.benchmarks;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The reference: the same command as the Execute run's actions, started with {@link ProcessBuilder}
 * from this JVM and waited for, with no server in between. Like Hearth's worker it gives the
 * process exactly {@code PATH=/bin:/usr/bin} and standard input from {@code /dev/null}; its output
 * is discarded rather than written to files, since a direct spawn needs no log. Both spawn from the
 * same JVM, with the same heap and the JDK's same launch mechanism, so the difference between the
 * two is what Hearth adds. Thread-safe.
 */
final class DirectSpawn {
  private static final File NULL_DEVICE = new File("/dev/null");

  private final File directory;

  /** Processes start in {@code directory}. */
  DirectSpawn(Path directory) {
    this.directory = directory.toFile();
  }

  /**
   * Runs {@code /bin/true direct-INDEX} to its end.
   *
   * @throws IllegalStateException if it exits with anything but 0, or this thread is interrupted
   * @throws UncheckedIOException if it cannot be started
   */
  Void run(int index) {
    ProcessBuilder builder =
        new ProcessBuilder(List.of(TrivialActions.PROGRAM, "direct-" + index))
            .directory(directory)
            .redirectInput(ProcessBuilder.Redirect.from(NULL_DEVICE))
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .redirectError(ProcessBuilder.Redirect.DISCARD);
    Map<String, String> environment = builder.environment();
    environment.clear();
    environment.put("PATH", TrivialActions.PATH);
    try {
      int exit = builder.start().waitFor();
      if (exit != 0) {
        throw new IllegalStateException(TrivialActions.PROGRAM + " exited with " + exit);
      }
      return null;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + TrivialActions.PROGRAM, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for a process", e);
    }
  }
}
