package build.hearth.benchmarks;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * A load driver's temporary directory: deleted when closed, or by a shutdown hook when the JVM
 * stops first (Ctrl-C during a long run), so an interrupted run does not leave its stores behind.
 * Deleting is best effort and says on stderr what it could not delete. Not thread-safe: the
 * driver's main thread owns it.
 */
final class ScratchDirectory implements AutoCloseable {
  private final Path path;
  private final Thread cleanup;

  private ScratchDirectory(Path path) {
    this.path = path;
    this.cleanup = new Thread(() -> deleteQuietly(path), "hearth-bench-cleanup");
  }

  /**
   * Makes a fresh directory named {@code prefix...} in {@code parent}, creating {@code parent} if
   * needed.
   *
   * @throws IOException if either cannot be made
   */
  static ScratchDirectory create(Path parent, String prefix) throws IOException {
    ScratchDirectory scratch =
        new ScratchDirectory(Files.createTempDirectory(Files.createDirectories(parent), prefix));
    Runtime.getRuntime().addShutdownHook(scratch.cleanup);
    return scratch;
  }

  Path path() {
    return path;
  }

  @Override
  public void close() {
    deleteQuietly(path);
    Runtime.getRuntime().removeShutdownHook(cleanup);
  }

  private static void deleteQuietly(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(path);
      }
    } catch (IOException | UncheckedIOException e) {
      System.err.println("could not delete " + dir + " completely: " + e);
    }
  }
}
