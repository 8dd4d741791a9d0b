package build.hearth.core.storage;

import static org.assertj.core.api.Assertions.assertThat;

import build.hearth.spi.storage.StoreStats;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** Checks of a filesystem store's directory against its index, for the filesystem store tests. */
final class StoreDirectories {
  private StoreDirectories() {}

  /** The regular files under {@code dir}, recursively; none if it does not exist. */
  static List<Path> files(Path dir) {
    if (!Files.exists(dir)) {
      return List.of();
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      return walk.filter(Files::isRegularFile).toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Asserts that the files under {@code dir} are exactly what {@code stats} accounts for. */
  static void assertMatches(Path dir, StoreStats stats) {
    assertMatches(dir, stats, 0);
  }

  /**
   * As {@link #assertMatches(Path, StoreStats)}, for a store whose files each hold {@code
   * overheadPerFile} bytes more than the entry they store (a header).
   */
  static void assertMatches(Path dir, StoreStats stats, long overheadPerFile) {
    List<Path> files = files(dir);
    long bytes = -overheadPerFile * files.size();
    for (Path file : files) {
      try {
        bytes += Files.size(file);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    assertThat(files.size()).as("files under %s vs. entries", dir).isEqualTo(stats.entries());
    assertThat(bytes).as("bytes under %s vs. sizeBytes", dir).isEqualTo(stats.sizeBytes());
  }
}
