package build.hearth.core.execroot;

import build.bazel.remote.execution.v2.Directory;
import build.hearth.api.Digest;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The directories {@link InputTreeValidator} has parsed and checked, by digest, so that the next
 * action over the same directories (the same tree again, or a persistent worker's next request,
 * which differs in a few directories) neither reads, parses nor checks them again. A digest names
 * its bytes, so an entry is right for every tree that uses it: what is cached is only what depends
 * on the directory's own bytes and the validator's settings (its entries' syntax, its digests, its
 * summary), never what depends on where it appears (the symlink walk, the depth, the entry count of
 * a whole tree, which are checked for every tree).
 *
 * <p>Bounded in bytes: each entry is charged {@value #CHARGE_FACTOR} times its serialized size,
 * about what the parsed message and its digests take on the heap, and the least recently used go
 * first. Thread-safe; the lock is held for map operations only.
 */
final class CheckedDirectories {
  static final int CHARGE_FACTOR = 4;

  /**
   * A directory that passed the per-directory checks.
   *
   * @param directory the parsed message
   * @param fileDigests the digest of each file, in the order of {@code getFilesList()}
   * @param childDigests the digest of each subdirectory, in the order of {@code
   *     getDirectoriesList()}
   * @param bytes the size of the serialized message
   */
  record Checked(Directory directory, Digest[] fileDigests, Digest[] childDigests, long bytes) {}

  /** A subtree's totals, which its digest determines: see {@link InputTreeValidator}. */
  record Summary(long entries, int height, boolean hasSymlinks) {}

  private final long maxBytes;
  // Guarded by this; in access order, eldest first.
  private final LinkedHashMap<Digest, Checked> entries = new LinkedHashMap<>(256, 0.75f, true);
  private final Map<Digest, Summary> summaries = new HashMap<>();
  private long bytes;

  /**
   * @param maxBytes the most bytes charged at once; 0 keeps nothing
   */
  CheckedDirectories(long maxBytes) {
    if (maxBytes < 0) {
      throw new IllegalArgumentException("maxBytes must not be negative, got " + maxBytes);
    }
    this.maxBytes = maxBytes;
  }

  /** The checked directory of {@code digest}, or null. */
  synchronized Checked get(Digest digest) {
    return entries.get(digest);
  }

  /** The summary of the subtree under {@code digest}, if it is still cached, or null. */
  synchronized Summary summary(Digest digest) {
    return entries.containsKey(digest) ? summaries.get(digest) : null;
  }

  /** Keeps {@code checked} under {@code digest}, evicting the least recently used beyond bound. */
  synchronized void put(Digest digest, Checked checked) {
    long charge = CHARGE_FACTOR * checked.bytes();
    if (charge > maxBytes) {
      return;
    }
    Checked previous = entries.put(digest, checked);
    if (previous != null) {
      bytes -= CHARGE_FACTOR * previous.bytes();
    }
    bytes += charge;
    Iterator<Map.Entry<Digest, Checked>> eldest = entries.entrySet().iterator();
    while (bytes > maxBytes && eldest.hasNext()) {
      Map.Entry<Digest, Checked> entry = eldest.next();
      bytes -= CHARGE_FACTOR * entry.getValue().bytes();
      summaries.remove(entry.getKey());
      eldest.remove();
    }
  }

  /** Records the summary of the cached directory {@code digest}; ignored if it is not cached. */
  synchronized void putSummary(Digest digest, Summary summary) {
    if (entries.containsKey(digest)) {
      summaries.put(digest, summary);
    }
  }

  /** The bytes charged now. */
  synchronized long bytes() {
    return bytes;
  }

  /** How many directories are cached. */
  synchronized int size() {
    return entries.size();
  }
}
