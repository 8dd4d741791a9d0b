package build.hearth.core.internal;

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

/** Deleting the trees that actions and tools leave behind. */
public final class DirectoryTrees {
  private static final Set<PosixFilePermission> OWNER_ALL =
      EnumSet.of(
          PosixFilePermission.OWNER_READ,
          PosixFilePermission.OWNER_WRITE,
          PosixFilePermission.OWNER_EXECUTE);

  private DirectoryTrees() {}

  /**
   * Deletes {@code root} and everything under it, never following a symlink: a link is removed, not
   * what it points to. Directories an action or a tool made read-only (or unreadable) get their
   * owner's permissions back first, since their entries cannot be removed otherwise; files keep
   * theirs, because hard-linked inputs share them with a cache. Iterative, so a deep tree cannot
   * exhaust the stack. A missing {@code root}, or an entry that vanishes meanwhile, is not an
   * error.
   *
   * @return how many files, symlinks and directories were deleted, {@code root} included
   * @throws IOException if an entry that exists cannot be deleted
   */
  public static int delete(Path root) throws IOException {
    BasicFileAttributes rootAttributes = attributesOrNull(root);
    if (rootAttributes == null) {
      return 0;
    }
    if (!rootAttributes.isDirectory()) {
      return Files.deleteIfExists(root) ? 1 : 0;
    }
    int deleted = 0;
    Deque<Path> pending = new ArrayDeque<>();
    Deque<Path> listed = new ArrayDeque<>();
    pending.push(root);
    while (!pending.isEmpty()) {
      Path dir = pending.pop();
      if (!grantOwner(dir)) {
        continue;
      }
      listed.push(dir);
      try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
        for (Path entry : entries) {
          BasicFileAttributes attributes = attributesOrNull(entry);
          if (attributes == null) {
            continue;
          }
          if (attributes.isDirectory()) {
            pending.push(entry);
          } else if (Files.deleteIfExists(entry)) {
            deleted++;
          }
        }
      } catch (NoSuchFileException e) {
        listed.pop();
      }
    }
    // Children were listed after their parents, so popping deletes them first.
    while (!listed.isEmpty()) {
      if (Files.deleteIfExists(listed.pop())) {
        deleted++;
      }
    }
    return deleted;
  }

  /**
   * Gives the owner read, write and search permission on the directory {@code dir}, whose current
   * permissions the caller has just read, unless it has them already.
   */
  public static void grantOwner(Path dir, Set<PosixFilePermission> permissions) throws IOException {
    if (!permissions.containsAll(OWNER_ALL)) {
      Set<PosixFilePermission> granted = EnumSet.copyOf(OWNER_ALL);
      granted.addAll(permissions);
      posixView(dir).setPermissions(granted);
    }
  }

  /**
   * Gives the owner full access to {@code dir}; false if {@code dir} is gone. On a file system
   * without POSIX permissions there is nothing to grant.
   */
  private static boolean grantOwner(Path dir) throws IOException {
    PosixFileAttributeView view = posixView(dir);
    if (view == null) {
      return Files.exists(dir, LinkOption.NOFOLLOW_LINKS);
    }
    try {
      grantOwner(dir, view.readAttributes().permissions());
    } catch (NoSuchFileException e) {
      return false;
    }
    return true;
  }

  private static PosixFileAttributeView posixView(Path path) {
    return Files.getFileAttributeView(
        path, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
  }

  private static BasicFileAttributes attributesOrNull(Path path) throws IOException {
    try {
      return Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    } catch (NoSuchFileException e) {
      return null;
    }
  }
}
