package build.hearth.core.persistent;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.EnumSet;
import java.util.Set;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Creates and deletes the pool's per-process directories. */
final class PoolDirectories {
  private static final Logger logger = LoggerFactory.getLogger(PoolDirectories.class);
  // <shortFingerprint>-<n>, as WorkerPool names them.
  private static final Pattern PROCESS_DIRECTORY = Pattern.compile("[0-9a-f]{12}-[0-9]+");
  private static final Set<PosixFilePermission> OWNER_ALL =
      EnumSet.of(
          PosixFilePermission.OWNER_READ,
          PosixFilePermission.OWNER_WRITE,
          PosixFilePermission.OWNER_EXECUTE);

  private PoolDirectories() {}

  /** Makes {@code directory} exist and be empty, removing what an earlier run may have left. */
  static void recreate(Path directory) throws IOException {
    delete(directory);
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
          delete(entry);
        }
      }
    } catch (IOException e) {
      logger.warn("could not delete old persistent worker directories under {}: {}", root, e);
    }
  }

  /**
   * Deletes {@code root} and everything under it without following symlinks. Directories get their
   * owner's permissions back first, since a tool or a read-only input tree may have taken them;
   * files keep theirs, because hard-linked inputs share them with the worker's cache. Iterative, so
   * a deep tree cannot exhaust the stack. A missing {@code root} is not an error.
   */
  static void delete(Path root) throws IOException {
    BasicFileAttributes rootAttributes = attributesOrNull(root);
    if (rootAttributes == null) {
      return;
    }
    if (!rootAttributes.isDirectory()) {
      Files.deleteIfExists(root);
      return;
    }
    Deque<Path> toList = new ArrayDeque<>();
    Deque<Path> toDelete = new ArrayDeque<>();
    toList.push(root);
    while (!toList.isEmpty()) {
      Path directory = toList.pop();
      if (!makeOwnerAccessible(directory)) {
        continue;
      }
      toDelete.push(directory);
      try (DirectoryStream<Path> entries = Files.newDirectoryStream(directory)) {
        for (Path entry : entries) {
          BasicFileAttributes attributes = attributesOrNull(entry);
          if (attributes == null) {
            continue;
          }
          if (attributes.isDirectory()) {
            toList.push(entry);
          } else {
            Files.deleteIfExists(entry);
          }
        }
      }
    }
    // A directory is pushed after its parent, so it comes off first.
    while (!toDelete.isEmpty()) {
      Files.deleteIfExists(toDelete.pop());
    }
  }

  /** Gives the owner full access to {@code directory}; false if it is gone. */
  private static boolean makeOwnerAccessible(Path directory) throws IOException {
    PosixFileAttributeView view =
        Files.getFileAttributeView(
            directory, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
    if (view == null) {
      return Files.exists(directory, LinkOption.NOFOLLOW_LINKS);
    }
    Set<PosixFilePermission> permissions;
    try {
      permissions = view.readAttributes().permissions();
    } catch (NoSuchFileException e) {
      return false;
    }
    if (!permissions.containsAll(OWNER_ALL)) {
      Set<PosixFilePermission> granted = EnumSet.copyOf(OWNER_ALL);
      granted.addAll(permissions);
      view.setPermissions(granted);
    }
    return true;
  }

  private static BasicFileAttributes attributesOrNull(Path path) throws IOException {
    try {
      return Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    } catch (NoSuchFileException e) {
      return null;
    }
  }
}
