package build.hearth.core.execroot;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * What one {@code lstat} says about a directory entry, including its inode's change time ({@code
 * ctime}), which {@link java.nio.file.attribute.PosixFileAttributes} does not give. {@link
 * DirectorySync} compares two stamps of the same path to decide that nothing happened to the entry
 * in between.
 *
 * <p>The change time is what makes that safe: the kernel sets it to the current time on every
 * change to the inode (a write, a truncation, a {@code chmod}, a {@code chown}, a new or removed
 * hard link, including the cache's eviction of the file the entry links to), and no unprivileged
 * process can set it back. An entry replaced by another (a tool's rename over it) has another
 * inode.
 *
 * @param dev the device of the inode
 * @param ino the inode number
 * @param mode the whole {@code st_mode}: file type and permission bits
 * @param nlink the inode's number of hard links
 * @param size the size in bytes
 * @param mtime the modification time, in nanoseconds since the epoch
 * @param ctime the inode's change time, in nanoseconds since the epoch
 */
record EntryStamp(long dev, long ino, int mode, int nlink, long size, long mtime, long ctime) {
  private static final String ATTRIBUTES = "unix:dev,ino,mode,nlink,size,lastModifiedTime,ctime";
  private static final int TYPE_MASK = 0170000;
  private static final int DIRECTORY = 0040000;
  private static final int REGULAR_FILE = 0100000;
  private static final int SYMLINK = 0120000;
  private static final PosixFilePermission[] BITS = {
    PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE,
    PosixFilePermission.OTHERS_READ, PosixFilePermission.GROUP_EXECUTE,
    PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_READ,
    PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE,
    PosixFilePermission.OWNER_READ
  };

  /** The stamp of {@code path} itself (a symlink is not followed), or null if nothing is there. */
  static EntryStamp read(Path path) throws IOException {
    Map<String, Object> attributes;
    try {
      attributes = Files.readAttributes(path, ATTRIBUTES, LinkOption.NOFOLLOW_LINKS);
    } catch (NoSuchFileException e) {
      return null;
    }
    return new EntryStamp(
        (Long) attributes.get("dev"),
        (Long) attributes.get("ino"),
        (Integer) attributes.get("mode"),
        (Integer) attributes.get("nlink"),
        (Long) attributes.get("size"),
        nanos(attributes.get("lastModifiedTime")),
        nanos(attributes.get("ctime")));
  }

  private static long nanos(Object time) {
    return ((FileTime) time).to(TimeUnit.NANOSECONDS);
  }

  boolean isDirectory() {
    return (mode & TYPE_MASK) == DIRECTORY;
  }

  boolean isRegularFile() {
    return (mode & TYPE_MASK) == REGULAR_FILE;
  }

  boolean isSymbolicLink() {
    return (mode & TYPE_MASK) == SYMLINK;
  }

  /** Whether both stamps are of the same inode. */
  boolean sameInode(EntryStamp other) {
    return other != null && dev == other.dev && ino == other.ino;
  }

  Set<PosixFilePermission> permissions() {
    Set<PosixFilePermission> permissions = EnumSet.noneOf(PosixFilePermission.class);
    for (int bit = 0; bit < BITS.length; bit++) {
      if ((mode & (1 << bit)) != 0) {
        permissions.add(BITS[bit]);
      }
    }
    return permissions;
  }
}
