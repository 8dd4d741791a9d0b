package build.hearth.core.execroot;

import build.hearth.api.Digest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Executable copies of cached blobs, for input files marked {@code is_executable}.
 *
 * <p>A hard link shares its permissions with every other link to the same file, so one cached file
 * cannot be both executable and not. The local cache's files stay non-executable (most inputs are),
 * and an executable input links to a copy here, made once per digest with {@code r-xr-xr-x}.
 * Executables are few (tools, scripts) but may be large (compilers), so the copies are bounded in
 * bytes and the least recently used go first. Deleting a copy does not disturb exec roots that link
 * to it; a caller that finds a copy gone (evicted between {@link #copyOf} and its link) calls
 * {@link #forget} and asks again.
 *
 * <p>The directory lives in the work directory, on the same file system as the exec roots, so links
 * to it always work. Thread-safe; no lock is held while files are copied or deleted.
 */
final class ExecutableCopies {
  private static final Logger log = LoggerFactory.getLogger(ExecutableCopies.class);

  private final Path dir;
  private final long maxBytes;
  // Guarded by this. In access order: the eldest entry is the least recently used.
  private final LinkedHashMap<Digest, Long> sizes = new LinkedHashMap<>(16, 0.75f, true);
  private long bytes;

  ExecutableCopies(Path dir, long maxBytes) {
    this.dir = dir;
    this.maxBytes = maxBytes;
  }

  /** The executable copy of {@code digest}, made from {@code cachedFile} if there is none yet. */
  Path copyOf(Digest digest, Path cachedFile) throws IOException {
    Path copy = dir.resolve(digest.hash());
    synchronized (this) {
      if (sizes.get(digest) != null) {
        return copy;
      }
    }
    Path temp = Files.createTempFile(dir, "copy-", ".tmp");
    try {
      Files.copy(cachedFile, temp, StandardCopyOption.REPLACE_EXISTING);
      Files.setPosixFilePermissions(temp, FileTrees.EXECUTABLE);
      // Two threads may copy the same digest at once; the second rename harmlessly replaces the
      // first's identical file.
      Files.move(temp, copy, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(temp);
    }
    List<Digest> evicted = new ArrayList<>();
    synchronized (this) {
      if (sizes.put(digest, digest.sizeBytes()) == null) {
        bytes += digest.sizeBytes();
      }
      Iterator<Map.Entry<Digest, Long>> eldest = sizes.entrySet().iterator();
      while (bytes > maxBytes && eldest.hasNext()) {
        Map.Entry<Digest, Long> entry = eldest.next();
        if (!entry.getKey().equals(digest)) {
          bytes -= entry.getValue();
          evicted.add(entry.getKey());
          eldest.remove();
        }
      }
    }
    for (Digest victim : evicted) {
      deleteQuietly(victim);
    }
    return copy;
  }

  /**
   * The executable copy of {@code digest} if one has been made and not evicted, without making one.
   * The file may still vanish right after (evicted by another thread).
   */
  synchronized Optional<Path> existingCopy(Digest digest) {
    // A lookup in the access-ordered map counts as a use, as it should: the caller links to it.
    return sizes.get(digest) == null ? Optional.empty() : Optional.of(dir.resolve(digest.hash()));
  }

  /**
   * Drops {@code digest}, whose copy turned out to be gone or damaged, so the next call makes it
   * again (replacing the file).
   */
  synchronized void forget(Digest digest) {
    Long size = sizes.remove(digest);
    if (size != null) {
      bytes -= size;
    }
  }

  private void deleteQuietly(Digest digest) {
    synchronized (this) {
      if (sizes.containsKey(digest)) {
        return; // made again since it was evicted
      }
    }
    try {
      Files.deleteIfExists(dir.resolve(digest.hash()));
    } catch (IOException e) {
      log.warn("Cannot delete the executable copy of {}: {}", digest, e.toString());
    }
  }
}
