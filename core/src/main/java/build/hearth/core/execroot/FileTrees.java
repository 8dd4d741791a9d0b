package build.hearth.core.execroot;

import build.hearth.api.Digest;
import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import build.hearth.core.internal.DiskErrors;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.Set;

/** File-system chores of the exec package: permissions, deleting trees, and error translation. */
final class FileTrees {
  static final Set<PosixFilePermission> READ_ONLY = PosixFilePermissions.fromString("r--r--r--");
  static final Set<PosixFilePermission> EXECUTABLE = PosixFilePermissions.fromString("r-xr-xr-x");
  private static final Set<PosixFilePermission> WRITE =
      EnumSet.of(
          PosixFilePermission.OWNER_WRITE,
          PosixFilePermission.GROUP_WRITE,
          PosixFilePermission.OTHERS_WRITE);

  private FileTrees() {}

  static Set<PosixFilePermission> permissions(boolean executable) {
    return executable ? EXECUTABLE : READ_ONLY;
  }

  /** Whether anyone (owner, group or others) may write, by {@code permissions}. */
  static boolean anyWrite(Set<PosixFilePermission> permissions) {
    return permissions.stream().anyMatch(WRITE::contains);
  }

  /**
   * Gives {@code file} (never followed if it is a symlink) exactly the mode {@code r--r--r--}, or
   * {@code r-xr-xr-x} when {@code executable}: no one may write it, and an action running as
   * another user can still read it. Changes the mode only when it differs.
   *
   * @return the file's attributes with that mode
   */
  static PosixFileAttributes makeReadOnly(Path file, boolean executable) throws IOException {
    PosixFileAttributeView view =
        Files.getFileAttributeView(file, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
    PosixFileAttributes attributes = view.readAttributes();
    if (!attributes.permissions().equals(permissions(executable))) {
      view.setPermissions(permissions(executable));
      attributes = view.readAttributes();
    }
    return attributes;
  }

  /** The attributes of {@code path} itself (a symlink is not followed), or null if it is gone. */
  static BasicFileAttributes attributesOrNull(Path path) throws IOException {
    try {
      return Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    } catch (NoSuchFileException e) {
      return null;
    }
  }

  /** The POSIX attributes of {@code path} itself (a symlink is not followed), or null if gone. */
  static PosixFileAttributes posixAttributesOrNull(Path path) throws IOException {
    try {
      return Files.readAttributes(path, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    } catch (NoSuchFileException e) {
      return null;
    }
  }

  /**
   * The digest of the regular file {@code file}, read as a stream through {@code buffer} and never
   * through a symlink.
   */
  static Digest hash(Path file, byte[] buffer) throws IOException {
    MessageDigest sha = Digest.newMessageDigest();
    long size = 0;
    try (InputStream in = Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS)) {
      int n;
      while ((n = in.read(buffer)) > 0) {
        sha.update(buffer, 0, n);
        size += n;
      }
    }
    return new Digest(HexFormat.of().formatHex(sha.digest()), size);
  }

  /**
   * A failure to {@code action} {@code path}: RESOURCE_EXHAUSTED when the disk is full, else
   * INTERNAL.
   */
  static HearthException failure(String action, Path path, IOException e) {
    String detail = e.getMessage() == null ? e.getClass().getSimpleName() : e.toString();
    StatusCode code =
        DiskErrors.isDiskFull(e) ? StatusCode.RESOURCE_EXHAUSTED : StatusCode.INTERNAL;
    return new HearthException(code, "cannot " + action + " " + path + ": " + detail, e);
  }
}
