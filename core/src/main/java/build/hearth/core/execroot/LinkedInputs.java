package build.hearth.core.execroot;

import build.hearth.api.Digest;
import build.hearth.spi.storage.LocalBlobFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The shared files one exec root's inputs are hard links to (cached blob files and executable
 * copies), each with its identity when it was linked, so that {@link #check} can tell, when the
 * exec root is closed, whether the action changed one through its link. That is the cache's guard
 * where the kernel does not guard it: an action running as the worker's own user (sandbox off, or a
 * worker that is not root) owns the inodes of its inputs and may {@code chmod} and write them.
 *
 * <p>Identity is the file key (device and inode), size, modification time and mode. A file whose
 * size changed had its bytes written: it is removed from the local cache (the store forgets it, so
 * the next action fetches good bytes) or from the executable copies, with a WARN naming the input
 * and the digest. A file whose mode or modification time changed is hashed: intact bytes stay (with
 * their mode put back), others are removed. The time alone changes without a write whenever the
 * filesystem store touches a blob another action uses (at most once a minute per blob), so an exec
 * root open for longer than that would otherwise drop good shared inputs. A file now of another key
 * was replaced at its path since (evicted and fetched again, or copied again), and is hashed too,
 * since an action running as the worker could also have replaced it. A file gone from the cache is
 * nothing to protect. An action that writes the same number of bytes and then resets the
 * modification time and the mode is not seen here: only a sandboxed root worker, whose actions
 * cannot write the inputs at all, rules that out.
 *
 * <p>The check costs one {@code lstat} per distinct linked file (see the package's tests for the
 * figure on 10,000 inputs). Not thread-safe: it belongs to one exec root, filled while it is built
 * and checked when it closes.
 */
final class LinkedInputs {
  private static final Logger log = LoggerFactory.getLogger(LinkedInputs.class);

  /** One shared file as it was when the first input was linked to it. */
  private record Linked(
      Digest digest,
      boolean executable,
      Path input,
      Object key,
      long size,
      FileTime modified,
      Set<PosixFilePermission> mode) {}

  private final LocalBlobFiles cacheFiles;
  private final ExecutableCopies executables;
  private final Map<Path, Linked> bySource = new HashMap<>();

  LinkedInputs(LocalBlobFiles cacheFiles, ExecutableCopies executables) {
    this.cacheFiles = cacheFiles;
    this.executables = executables;
  }

  /** Whether an input has been linked to {@code source} already. */
  boolean contains(Path source) {
    return bySource.containsKey(source);
  }

  /**
   * Records that {@code input} is a hard link to {@code source}, whose attributes (read when it was
   * made read-only, before the link) are {@code attributes}. Only the first input per source
   * counts.
   */
  void record(
      Path source, PosixFileAttributes attributes, Digest digest, boolean executable, Path input) {
    bySource.putIfAbsent(
        source,
        new Linked(
            digest,
            executable,
            input,
            attributes.fileKey(),
            attributes.size(),
            attributes.lastModifiedTime(),
            attributes.permissions()));
  }

  /** How many distinct shared files were linked. */
  int size() {
    return bySource.size();
  }

  /**
   * Re-reads each shared file's identity and removes from the local cache or the executable copies
   * what the action changed. Logs rather than throws.
   *
   * @return how many shared files were removed or had their mode put back
   */
  int check() {
    int repaired = 0;
    byte[] buffer = null;
    for (Map.Entry<Path, Linked> entry : bySource.entrySet()) {
      Path source = entry.getKey();
      Linked linked = entry.getValue();
      try {
        PosixFileAttributes now = FileTrees.posixAttributesOrNull(source);
        if (now == null || isUnchanged(now, linked)) {
          continue;
        }
        if (buffer == null) {
          buffer = new byte[64 * 1024];
        }
        boolean sameFile = Objects.equals(now.fileKey(), linked.key());
        // A new modification time alone is no proof of a write: the local cache sets it itself
        // when another action uses the blob (its LRU order for the next start), so the bytes
        // decide, as for a changed mode.
        boolean sameBytes =
            sameFile
                ? now.size() == linked.size() && hasHash(source, linked.digest(), buffer)
                : hasHash(source, linked.digest(), buffer);
        if (sameBytes && !sameFile) {
          continue; // replaced by a good copy since (evicted and fetched again)
        }
        if (sameBytes && now.permissions().equals(linked.mode())) {
          continue; // only its time changed, and its bytes are intact
        }
        repaired++;
        if (sameBytes) {
          Files.getFileAttributeView(
                  source, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
              .setPermissions(FileTrees.permissions(linked.executable()));
          log.warn(
              "The input {} had its mode changed through its link, and with it the shared {} of"
                  + " {}; its bytes are intact, made it read-only again",
              linked.input(),
              linked.executable() ? "executable copy" : "local cache file",
              linked.digest());
        } else {
          evict(source, now, linked);
        }
      } catch (IOException | RuntimeException e) {
        log.warn(
            "Cannot check the shared file {} of the input {} ({}): {}",
            source,
            linked.input(),
            linked.digest(),
            e.toString());
      }
    }
    return repaired;
  }

  private static boolean isUnchanged(PosixFileAttributes now, Linked linked) {
    return Objects.equals(now.fileKey(), linked.key())
        && now.size() == linked.size()
        && now.lastModifiedTime().equals(linked.modified())
        && now.permissions().equals(linked.mode());
  }

  private void evict(Path source, PosixFileAttributes now, Linked linked) throws IOException {
    log.warn(
        "The input {} was written through its link, and with it the shared {} of {}; removing"
            + " that file so the next action that needs the blob fetches it again",
        linked.input(),
        linked.executable() ? "executable copy" : "local cache file",
        linked.digest());
    // Still the file just checked: never delete a good copy made meanwhile.
    PosixFileAttributes current = FileTrees.posixAttributesOrNull(source);
    if (current != null && Objects.equals(current.fileKey(), now.fileKey())) {
      Files.deleteIfExists(source);
    }
    if (linked.executable()) {
      executables.forget(linked.digest());
    } else {
      // The store finds its file gone and forgets the blob now, not at the next lookup.
      cacheFiles.pathOf(linked.digest());
    }
  }

  private static boolean hasHash(Path file, Digest expected, byte[] buffer) {
    try {
      Digest actual = FileTrees.hash(file, buffer);
      return actual.equals(expected);
    } catch (IOException e) {
      return false; // made unreadable, say: treat it as damaged
    }
  }
}
