package build.hearth.core.execroot;

import build.hearth.api.Digest;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What {@link DirectorySync} left in each directory it synced, so that the next sync of the same
 * directory can trust what has not changed since: a {@link Left} record per directory, with the
 * stamps of the entries it checked.
 *
 * <p>A record is taken out when its directory's sync starts and put back only when that sync ends
 * well, so a failed sync leaves none, and the next one looks at everything. Bounded by the number
 * of entries recorded (files, symlinks and directories), about 150 bytes each on the heap; the
 * least recently synced directories are forgotten first. Thread-safe; the lock is held for map
 * operations only.
 */
final class SyncRecords {
  /**
   * What a sync left in one directory.
   *
   * @param digest the {@code Directory} synced there
   * @param self the directory's own stamp, or null if it may not be trusted (the sync changed the
   *     directory, kept paths are below it, or the stamp was too recent): then the next sync lists
   *     it
   * @param entries the files and symlinks the sync checked, by name, with what it checked them to
   *     be
   * @param children the subdirectories' records, by name
   */
  record Left(
      Digest digest,
      EntryStamp self,
      Map<String, Entry> entries,
      Map<String, Left> children,
      long size) {}

  /**
   * An entry the sync found right, and its stamp then.
   *
   * @param stamp the entry's stamp when it was checked
   * @param digest the file's digest, null for a symlink
   * @param executable whether the file is executable
   * @param target the symlink's target, null for a file
   */
  record Entry(EntryStamp stamp, Digest digest, boolean executable, String target) {
    boolean isFile(Digest expected, boolean expectedExecutable) {
      return expected.equals(digest) && executable == expectedExecutable;
    }

    boolean isSymlink(String expectedTarget) {
      return expectedTarget.equals(target);
    }
  }

  private final long maxEntries;
  // Guarded by this; in access order, eldest first.
  private final LinkedHashMap<Path, Left> records = new LinkedHashMap<>(16, 0.75f, true);
  private long entries;

  /**
   * @param maxEntries the most entries recorded at once; 0 records nothing
   */
  SyncRecords(long maxEntries) {
    if (maxEntries < 0) {
      throw new IllegalArgumentException("maxEntries must not be negative, got " + maxEntries);
    }
    this.maxEntries = maxEntries;
  }

  /** Takes out the record of {@code directory}, or null: the caller is about to change it. */
  synchronized Left take(Path directory) {
    Left left = records.remove(directory);
    if (left != null) {
      entries -= left.size();
    }
    return left;
  }

  /** Records what a sync left in {@code directory}, forgetting the eldest records to make room. */
  synchronized void put(Path directory, Left left) {
    if (left.size() > maxEntries) {
      return;
    }
    Left old = records.put(directory, left);
    if (old != null) {
      entries -= old.size();
    }
    entries += left.size();
    Iterator<Left> eldest = records.values().iterator();
    while (entries > maxEntries) {
      entries -= eldest.next().size();
      eldest.remove();
    }
  }

  /** Forgets every record, as after the cache's files changed under them. */
  synchronized void clear() {
    records.clear();
    entries = 0;
  }
}
