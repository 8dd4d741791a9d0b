package build.hearth.core.persistent;

import build.hearth.core.internal.DirectoryTrees;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Creates and deletes the pool's per-process directories. */
final class PoolDirectories {
  private static final Logger logger = LoggerFactory.getLogger(PoolDirectories.class);
  // <shortFingerprint>-<n>, as ToolPool names them.
  private static final Pattern PROCESS_DIRECTORY = Pattern.compile("[0-9a-f]{12}-[0-9]+");

  private PoolDirectories() {}

  /** Makes {@code directory} exist and be empty, removing what an earlier run may have left. */
  static void recreate(Path directory) throws IOException {
    DirectoryTrees.delete(directory);
    Files.createDirectories(directory);
  }

  /**
   * Removes the process directories that an earlier pool left under {@code root}, say after a
   * crash; other entries stay. Failures are logged, since they only cost disk space.
   */
  static void deleteLeftovers(Path root) {
    if (!Files.isDirectory(root, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(root)) {
      for (Path entry : entries) {
        if (PROCESS_DIRECTORY.matcher(entry.getFileName().toString()).matches()) {
          DirectoryTrees.delete(entry);
        }
      }
    } catch (IOException e) {
      logger.warn("could not delete old persistent worker directories under {}: {}", root, e);
    }
  }
}
