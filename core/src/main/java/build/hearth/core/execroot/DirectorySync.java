package build.hearth.core.execroot;

import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.DirectoryNode;
import build.bazel.remote.execution.v2.FileNode;
import build.bazel.remote.execution.v2.SymlinkNode;
import build.hearth.api.Digest;
import build.hearth.api.HearthException;
import build.hearth.core.internal.DirectoryTrees;
import build.hearth.spi.storage.LocalBlobFiles;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes a directory that already holds something (whatever earlier requests of a persistent worker
 * left, in any state) hold exactly a validated input tree, touching only what differs.
 *
 * <p>The directory and the tree are walked together, one directory level at a time. An input file
 * stays when the entry at its path is still the very file prepare would link there: the same inode
 * (compared by {@link BasicFileAttributes#fileKey()}) as the cached blob, or as its executable
 * copy, with the blob's size, no write bit and the right execute bit. Everything else the tree does
 * not have at that path goes, never followed if it is a symlink; then the missing entries are
 * created as {@link ExecRootBuilder} creates them.
 *
 * <p>An entry that shares its inode with the cache but got a write bit, another size or another
 * execute bit was changed through the link, and so was the cache's file. The bytes are then hashed:
 * if only the mode changed, it is put right; otherwise the cached file is deleted (still the same
 * inode) so that the store forgets it and the blob is fetched again. A damaged executable copy is
 * simply made again. An action that writes an input and then removes the write bit again, keeping
 * the size, cannot be told apart here, as in {@link ExecRoots#prepare}'s exec roots.
 *
 * <p>What a sync found right it records ({@link SyncRecords}), so that the next sync of the same
 * directory skips what cannot have changed. Per directory: the {@code Directory} synced there and
 * the directory's own {@link EntryStamp}; if both are unchanged the directory is not listed, since
 * adding, removing or renaming an entry moves the directory's ctime. Per file or symlink: its stamp
 * (inode, mode, link count, size, modification and change time) and what it was checked to be; an
 * entry whose {@code lstat} gives the same stamp is kept without consulting the cache. This is safe
 * because the kernel moves an inode's ctime on every write, {@code chmod} or link-count change (the
 * cache's eviction of the file included) and nobody but root can set it back; a replaced entry has
 * another inode. A file whose inode is the recorded one but whose modification time, size or mode
 * moved is hashed, which also catches a write whose size and mode were put back, which the check
 * against the cache alone cannot (a moved ctime alone is not: links made and removed by exec roots
 * move it all the time). Only stamps whose ctime is older than the sync's start by the trust age
 * (two seconds by default, more than the file system's timestamp granularity) are recorded, so a
 * change made in the same clock tick as the {@code lstat} that recorded the entry cannot leave an
 * equal stamp ("racy" entries, as Git calls them, are checked in full again next time). Directories
 * with kept paths below them are always listed.
 *
 * <p>Thread-safe, and holds no lock: different directories may be synced at once. One directory
 * must not be synced twice at once, nor changed by anyone while it is synced (so the caller syncs
 * only while no request runs there), since what is checked and then acted on could otherwise change
 * in between. Kept paths are exempt: the sync never looks into them, so requests may run in them
 * meanwhile (a multiplex tool process's sandboxes).
 */
final class DirectorySync {
  private static final Logger log = LoggerFactory.getLogger(DirectorySync.class);
  private static final Set<PosixFilePermission> OWNER_ALL =
      EnumSet.of(
          PosixFilePermission.OWNER_READ,
          PosixFilePermission.OWNER_WRITE,
          PosixFilePermission.OWNER_EXECUTE);

  private final ExecRootBuilder builder;
  private final LocalBlobFiles cacheFiles;
  private final ExecutableCopies executables;
  private final SyncRecords records;
  private final long trustAgeNanos;

  /**
   * @param records what earlier syncs left, shared by every directory this instance syncs
   * @param trustAge how much older than a sync's start an entry's last change must be for the sync
   *     to record its stamp: at least the file system's timestamp granularity plus the lag of the
   *     kernel's coarse clock behind {@link Instant#now}
   */
  DirectorySync(
      ExecRootBuilder builder,
      LocalBlobFiles cacheFiles,
      ExecutableCopies executables,
      SyncRecords records,
      Duration trustAge) {
    this.builder = builder;
    this.cacheFiles = cacheFiles;
    this.executables = executables;
    this.records = records;
    this.trustAgeNanos = trustAge.toNanos();
  }

  /**
   * Syncs {@code directory} (created if missing) with the tree of {@code inputs}, leaving {@code
   * keep} alone. The caller has validated the tree, checked it against {@code keep} and fetched its
   * blobs.
   *
   * @throws HearthException FAILED_PRECONDITION if {@code directory} is a file or a symlink;
   *     INTERNAL or RESOURCE_EXHAUSTED when the file system fails, leaving the directory partly
   *     synced (the next sync repairs it)
   */
  SyncedInputs sync(InputFiles inputs, Path directory, KeptPaths keep) {
    long started = System.nanoTime();
    Instant now = Instant.now();
    long fence = now.getEpochSecond() * 1_000_000_000L + now.getNano() - trustAgeNanos;
    InputTree tree = inputs.tree();
    Path key = directory.toAbsolutePath().normalize();
    // Taken out first: if this sync fails midway, the next one trusts nothing.
    SyncRecords.Left last = records.take(key);
    EntryStamp self;
    try {
      self = EntryStamp.read(directory);
      if (self == null) {
        Files.createDirectories(directory);
        last = null;
      } else if (!self.isDirectory()) {
        throw HearthException.failedPrecondition(
            "cannot sync inputs into %s: it is a %s, not a directory",
            directory, self.isSymbolicLink() ? "symlink" : "file");
      } else if (!self.permissions().containsAll(OWNER_ALL)) {
        DirectoryTrees.grantOwner(directory, self.permissions());
        self = null;
      }
    } catch (IOException e) {
      throw FileTrees.failure("create the directory", directory, e);
    }
    Run run = new Run(tree, fence);
    SyncRecords.Left left =
        run.sync(
            tree.directory(tree.root()),
            tree.root(),
            directory,
            self,
            keep == KeptPaths.NONE ? null : keep.root(),
            last);
    records.put(key, left);
    SyncedInputs result =
        new SyncedInputs(
            inputs.files(),
            inputs.toolInputs(),
            run.kept,
            run.linked,
            run.removed,
            run.trusted,
            run.unlisted);
    if (log.isDebugEnabled()) {
      log.debug(
          "Synced {} with {} in {} ms: {}",
          directory,
          tree.root(),
          (System.nanoTime() - started) / 1_000_000,
          result);
    }
    return result;
  }

  /** An entry found in a directory, by the path the listing gave (exact even for odd names). */
  private record Present(Path path, EntryStamp stamp) {}

  /** A file that input entries may be links to, and its stamp; a null stamp if it is gone. */
  private record Source(Path path, EntryStamp stamp) {
    static final Source NONE = new Source(null, null);
  }

  /** The state of one sync: what it did, and the identities of the files it linked to. */
  private final class Run {
    final InputTree tree;
    // Stamps changed at or after this time (epoch nanoseconds) are not recorded: see the class doc.
    final long fence;
    // One lookup per digest, however many paths use it.
    final Map<Digest, Source> cached = new HashMap<>();
    final Map<Digest, Source> copies = new HashMap<>();
    int kept;
    int linked;
    int removed;
    int trusted;
    int unlisted;

    Run(InputTree tree, long fence) {
      this.tree = tree;
      this.fence = fence;
    }

    /**
     * Syncs the existing directory {@code dir}, whose owner has full access, with {@code expected}.
     * {@code keep} is null when nothing below is kept; {@code self} is the directory's stamp before
     * this sync touched it, {@code last} what the last sync left there (null if unknown).
     *
     * @return what this sync left there
     */
    SyncRecords.Left sync(
        Directory expected,
        Digest digest,
        Path dir,
        EntryStamp self,
        KeptPaths.Node keep,
        SyncRecords.Left last) {
      Map<String, SyncRecords.Entry> lastEntries = last == null ? Map.of() : last.entries();
      Map<String, SyncRecords.Left> lastChildren = last == null ? Map.of() : last.children();
      // The directory's own stamp moves whenever an entry is added, removed or renamed in it: if
      // it has not since the last sync of the same Directory, its names are the tree's.
      boolean listed =
          keep != null
              || last == null
              || last.self() == null
              || !last.self().equals(self)
              || !last.digest().equals(digest);
      Map<String, Present> present;
      boolean changed = false;
      if (listed) {
        present = list(dir);
        if (!present.isEmpty()) {
          // Strays go first: on a case-insensitive file system one may block an entry to create.
          changed = removeStrays(expected, present, keep);
        }
      } else {
        present = null;
        unlisted++;
      }
      Map<String, SyncRecords.Entry> entries = new HashMap<>();
      Map<String, SyncRecords.Left> children = new HashMap<>();
      long size = 1;
      for (FileNode file : expected.getFilesList()) {
        String name = file.getName();
        Digest fileDigest = Digest.fromProto(file.getDigest());
        boolean executable = file.getIsExecutable();
        Path target = dir.resolve(name);
        try {
          Present found = listed ? present.get(name) : look(target);
          if (found != null) {
            SyncRecords.Entry before = lastEntries.get(name);
            if (before != null
                && before.isFile(fileDigest, executable)
                && before.stamp().equals(found.stamp)) {
              kept++;
              trusted++;
              entries.put(name, before);
              size++;
              continue;
            }
            if (before != null
                && before.isFile(fileDigest, executable)
                && wasWrittenInPlace(before.stamp(), found, fileDigest)) {
              dropDamaged(found, fileDigest, executable);
            } else if (isInputFile(found, fileDigest, executable)) {
              kept++;
              if (found.stamp.ctime() < fence) {
                entries.put(name, new SyncRecords.Entry(found.stamp, fileDigest, executable, null));
                size++;
              }
              continue;
            }
            remove(found.path);
          }
          builder.placeFile(target, fileDigest, executable);
          linked++;
          changed = true;
        } catch (IOException e) {
          throw FileTrees.failure("sync the input file", target, e);
        }
      }
      for (SymlinkNode symlink : expected.getSymlinksList()) {
        String name = symlink.getName();
        Path link = dir.resolve(name);
        Path target = link.getFileSystem().getPath(symlink.getTarget());
        try {
          Present found = listed ? present.get(name) : look(link);
          if (found != null) {
            SyncRecords.Entry before = lastEntries.get(name);
            if (before != null
                && before.isSymlink(symlink.getTarget())
                && before.stamp().equals(found.stamp)) {
              kept++;
              trusted++;
              entries.put(name, before);
              size++;
              continue;
            }
            // Compared as paths, which normalize the same way the link was created.
            if (found.stamp.isSymbolicLink() && Files.readSymbolicLink(found.path).equals(target)) {
              kept++;
              if (found.stamp.ctime() < fence) {
                entries.put(
                    name, new SyncRecords.Entry(found.stamp, null, false, symlink.getTarget()));
                size++;
              }
              continue;
            }
            remove(found.path);
          }
          Files.createSymbolicLink(link, target);
          linked++;
          changed = true;
        } catch (IOException e) {
          throw FileTrees.failure("sync the input symlink", link, e);
        }
      }
      for (DirectoryNode child : expected.getDirectoriesList()) {
        String name = child.getName();
        Path subdirectory = dir.resolve(name);
        Digest childDigest = Digest.fromProto(child.getDigest());
        Directory childDirectory = tree.directory(childDigest);
        KeptPaths.Node childKeep = keep == null ? null : keep.child(name);
        SyncRecords.Left childLast = lastChildren.get(name);
        EntryStamp childSelf;
        try {
          Present found = listed ? present.get(name) : look(subdirectory);
          if (found != null && found.stamp.isDirectory()) {
            childSelf = found.stamp;
            if (!childSelf.permissions().containsAll(OWNER_ALL)) {
              DirectoryTrees.grantOwner(found.path, childSelf.permissions());
              childSelf = null; // its stamp moved
            }
          } else {
            if (found != null) {
              remove(found.path);
            }
            Files.createDirectory(subdirectory);
            changed = true;
            childKeep = null; // nothing to keep in a new directory
            childSelf = null;
            childLast = null;
          }
        } catch (IOException e) {
          throw FileTrees.failure("sync the input directory", subdirectory, e);
        }
        SyncRecords.Left left =
            sync(childDirectory, childDigest, subdirectory, childSelf, childKeep, childLast);
        children.put(name, left);
        size += left.size();
      }
      boolean trustSelf = !changed && keep == null && self != null && self.ctime() < fence;
      return new SyncRecords.Left(digest, trustSelf ? self : null, entries, children, size);
    }

    /**
     * Removes from the disk and from {@code present} what the tree does not name, except kept
     * paths; the directories leading to kept paths are synced as if empty in the tree.
     *
     * @return whether anything was removed
     */
    private boolean removeStrays(
        Directory expected, Map<String, Present> present, KeptPaths.Node keep) {
      Set<String> names = names(expected);
      boolean changed = false;
      Iterator<Map.Entry<String, Present>> entries = present.entrySet().iterator();
      while (entries.hasNext()) {
        Map.Entry<String, Present> entry = entries.next();
        String name = entry.getKey();
        if (names.contains(name)) {
          continue;
        }
        entries.remove();
        Present found = entry.getValue();
        KeptPaths.Node kept = keep == null ? null : keep.child(name);
        try {
          if (kept != null && kept.kept()) {
            continue;
          }
          if (kept != null && found.stamp.isDirectory()) {
            DirectoryTrees.grantOwner(found.path, found.stamp.permissions());
            sync(Directory.getDefaultInstance(), Digest.EMPTY, found.path, null, kept, null);
            continue;
          }
          remove(found.path);
          changed = true;
        } catch (IOException e) {
          throw FileTrees.failure("remove", found.path, e);
        }
      }
      return changed;
    }

    private void remove(Path path) throws IOException {
      removed += DirectoryTrees.delete(path);
    }

    /**
     * Whether the file the last sync recorded as {@code before}, still the same inode, may have had
     * its bytes changed since. A moved ctime alone is no proof: every hard link made to or removed
     * from the same cache file (an exec root's prepare and close, another synced directory, an
     * eviction) moves it too, and the link count may be back where it was. A write moves the
     * modification time, and usually the size or the mode (the write bit it needed): any of these
     * changed is decided by hashing the file, which catches a write whose size and mode were put
     * back, where the check against the cache alone cannot. Only a write whose modification time
     * was also set back ({@code utimes}, which only the file's owner may do) goes unseen, as in
     * {@link ExecRoots#prepare}'s exec roots.
     */
    private boolean wasWrittenInPlace(EntryStamp before, Present found, Digest digest) {
      EntryStamp now = found.stamp;
      if (digest.isEmpty() || !now.isRegularFile() || !before.sameInode(now)) {
        return false; // an empty input is checked by its size; another inode is relinked anyway
      }
      boolean touched =
          now.mtime() != before.mtime()
              || now.size() != before.size()
              || now.mode() != before.mode();
      return touched && !hasHash(found.path, digest);
    }

    /**
     * Drops the shared file that the input {@code found} damaged through its link: the executable
     * copy, or the cache's file, so that the blob is fetched again. The caller removes the input.
     */
    private void dropDamaged(Present found, Digest digest, boolean executable) throws IOException {
      log.warn(
          "The input {} was written in place since the last sync, and with it the {} of {};"
              + " dropping that file. A persistent worker must not write to its inputs; its other"
              + " exec roots may hold the damaged bytes too.",
          found.path,
          executable ? "shared executable copy" : "local cache's file",
          digest);
      if (executable) {
        executables.forget(digest);
        copies.remove(digest);
      } else {
        Source source = source(digest, false);
        if (found.stamp.sameInode(source.stamp)) {
          Files.deleteIfExists(source.path);
        }
        cached.remove(digest);
      }
    }

    /**
     * Whether {@code found} is what {@link ExecRootBuilder#placeFile} would put there now. Repairs
     * the cache's file or the executable copy when the action changed it through its link.
     */
    private boolean isInputFile(Present found, Digest digest, boolean executable)
        throws IOException {
      EntryStamp stamp = found.stamp;
      if (!stamp.isRegularFile()) {
        return false;
      }
      if (digest.isEmpty()) {
        // Made for this path alone, not linked: its size and mode say everything.
        return stamp.size() == 0 && stamp.permissions().equals(FileTrees.permissions(executable));
      }
      Source source = source(digest, executable);
      if (!stamp.sameInode(source.stamp)) {
        return false;
      }
      if (isIntact(stamp, digest, executable)) {
        return true;
      }
      if (executable) {
        log.warn(
            "The executable input {} was changed through its link, and with it the shared"
                + " executable copy of {}; making a new copy",
            found.path,
            digest);
        executables.forget(digest);
        copies.remove(digest);
        return false;
      }
      return repairCachedBlob(found, digest, source);
    }

    private boolean isIntact(EntryStamp stamp, Digest digest, boolean executable) {
      Set<PosixFilePermission> permissions = stamp.permissions();
      return stamp.size() == digest.sizeBytes()
          && !FileTrees.anyWrite(permissions)
          && permissions.contains(PosixFilePermission.OWNER_EXECUTE) == executable;
    }

    /**
     * The action reached the cache's file of {@code digest} through its link in the directory. If
     * the bytes are still right, only the mode is put back; else the cached file is deleted, so
     * that the store forgets it and {@link ExecRootBuilder#placeFile} fetches the blob again.
     *
     * @return whether the entry may stay
     */
    private boolean repairCachedBlob(Present found, Digest digest, Source source)
        throws IOException {
      if (found.stamp.size() == digest.sizeBytes() && hasHash(found.path, digest)) {
        Files.getFileAttributeView(
                found.path, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
            .setPermissions(FileTrees.READ_ONLY);
        log.warn(
            "The input {} had its mode changed through its link, and with it the local cache's"
                + " file of {}; made it read-only again",
            found.path,
            digest);
        // The chmod moved the entry's ctime: the stamp taken before it will not match next time.
        return true;
      }
      log.warn(
          "The input {} was written through its link, and with it the local cache's file of {};"
              + " dropping that file so the blob is fetched again. A persistent worker must not"
              + " write to its inputs; its other exec roots may hold the damaged bytes too.",
          found.path,
          digest);
      EntryStamp now = EntryStamp.read(source.path);
      if (source.stamp.sameInode(now)) {
        Files.deleteIfExists(source.path);
      }
      cached.remove(digest);
      return false;
    }

    /** The file an input of {@code digest} links to: its executable copy, or the cached blob. */
    private Source source(Digest digest, boolean executable) throws IOException {
      Map<Digest, Source> known = executable ? copies : cached;
      Source source = known.get(digest);
      if (source == null) {
        Optional<Path> file =
            executable ? executables.existingCopy(digest) : cacheFiles.pathOf(digest);
        source = file.isPresent() ? identify(file.get()) : Source.NONE;
        known.put(digest, source);
      }
      return source;
    }
  }

  private static Present look(Path path) throws IOException {
    EntryStamp stamp = EntryStamp.read(path);
    return stamp == null ? null : new Present(path, stamp);
  }

  private static Source identify(Path file) throws IOException {
    EntryStamp stamp = EntryStamp.read(file);
    return stamp == null ? Source.NONE : new Source(file, stamp);
  }

  private static Map<String, Present> list(Path dir) {
    Map<String, Present> present = new HashMap<>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
      for (Path entry : entries) {
        EntryStamp stamp = EntryStamp.read(entry);
        if (stamp != null) {
          present.put(entry.getFileName().toString(), new Present(entry, stamp));
        }
      }
    } catch (IOException e) {
      throw FileTrees.failure("list the directory", dir, e);
    }
    return present;
  }

  private static Set<String> names(Directory directory) {
    Set<String> names =
        new HashSet<>(
            2
                * (directory.getFilesCount()
                    + directory.getDirectoriesCount()
                    + directory.getSymlinksCount()));
    directory.getFilesList().forEach(f -> names.add(f.getName()));
    directory.getDirectoriesList().forEach(d -> names.add(d.getName()));
    directory.getSymlinksList().forEach(s -> names.add(s.getName()));
    return names;
  }

  /** Whether {@code file}'s bytes hash to {@code expected}; false if they cannot be read. */
  private static boolean hasHash(Path file, Digest expected) {
    try {
      return FileTrees.hash(file, new byte[64 * 1024]).hash().equals(expected.hash());
    } catch (IOException e) {
      return false; // made unreadable, say: treat it as damaged
    }
  }
}
