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
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
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
 * <p>Thread-safe, and holds no lock: different directories may be synced at once. One directory
 * must not be synced twice at once, nor changed by anyone while it is synced (so the caller syncs
 * only while no request runs there), since what is checked and then acted on could otherwise change
 * in between. Kept paths are exempt: the sync never looks into them, so requests may run in them
 * meanwhile (a multiplex tool process's sandboxes).
 */
final class DirectorySync {
  private static final Logger log = LoggerFactory.getLogger(DirectorySync.class);

  private final ExecRootBuilder builder;
  private final LocalBlobFiles cacheFiles;
  private final ExecutableCopies executables;

  DirectorySync(ExecRootBuilder builder, LocalBlobFiles cacheFiles, ExecutableCopies executables) {
    this.builder = builder;
    this.cacheFiles = cacheFiles;
    this.executables = executables;
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
    InputTree tree = inputs.tree();
    try {
      PosixFileAttributes attributes = FileTrees.posixAttributesOrNull(directory);
      if (attributes == null) {
        Files.createDirectories(directory);
      } else if (!attributes.isDirectory()) {
        throw HearthException.failedPrecondition(
            "cannot sync inputs into %s: it is a %s, not a directory",
            directory, attributes.isSymbolicLink() ? "symlink" : "file");
      } else {
        DirectoryTrees.grantOwner(directory, attributes.permissions());
      }
    } catch (IOException e) {
      throw FileTrees.failure("create the directory", directory, e);
    }
    Run run = new Run(tree);
    run.sync(tree.directory(tree.root()), directory, keep.root());
    SyncedInputs result =
        new SyncedInputs(inputs.files(), inputs.toolInputs(), run.kept, run.linked, run.removed);
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
  private record Present(Path path, PosixFileAttributes attributes) {}

  /** A file that input entries may be links to, and its identity; a null key if it is gone. */
  private record Source(Path path, Object key) {
    static final Source NONE = new Source(null, null);
  }

  /** The state of one sync: what it did, and the identities of the files it linked to. */
  private final class Run {
    final InputTree tree;
    // One lookup per digest, however many paths use it.
    final Map<Digest, Source> cached = new HashMap<>();
    final Map<Digest, Source> copies = new HashMap<>();
    int kept;
    int linked;
    int removed;

    Run(InputTree tree) {
      this.tree = tree;
    }

    /**
     * Syncs the existing directory {@code dir}, whose owner has full access, with {@code expected}.
     * {@code keep} is null when nothing below is kept.
     */
    void sync(Directory expected, Path dir, KeptPaths.Node keep) {
      Map<String, Present> present = list(dir);
      if (!present.isEmpty()) {
        // Strays go first: on a case-insensitive file system one may block an entry to create.
        removeStrays(expected, present, keep);
      }
      for (FileNode file : expected.getFilesList()) {
        String name = file.getName();
        Digest digest = Digest.fromProto(file.getDigest());
        Path target = dir.resolve(name);
        try {
          Present found = present.get(name);
          if (found != null) {
            if (isInputFile(found, digest, file.getIsExecutable())) {
              kept++;
              continue;
            }
            remove(found.path);
          }
          builder.placeFile(target, digest, file.getIsExecutable());
          linked++;
        } catch (IOException e) {
          throw FileTrees.failure("sync the input file", target, e);
        }
      }
      for (SymlinkNode symlink : expected.getSymlinksList()) {
        Path link = dir.resolve(symlink.getName());
        Path target = link.getFileSystem().getPath(symlink.getTarget());
        try {
          Present found = present.get(symlink.getName());
          if (found != null) {
            // Compared as paths, which normalize the same way the link was created.
            if (found.attributes.isSymbolicLink()
                && Files.readSymbolicLink(found.path).equals(target)) {
              kept++;
              continue;
            }
            remove(found.path);
          }
          Files.createSymbolicLink(link, target);
          linked++;
        } catch (IOException e) {
          throw FileTrees.failure("sync the input symlink", link, e);
        }
      }
      for (DirectoryNode child : expected.getDirectoriesList()) {
        String name = child.getName();
        Path subdirectory = dir.resolve(name);
        Directory childDirectory = tree.directory(Digest.fromProto(child.getDigest()));
        KeptPaths.Node childKeep = keep == null ? null : keep.child(name);
        Present found = present.get(name);
        try {
          if (found != null && found.attributes.isDirectory()) {
            DirectoryTrees.grantOwner(found.path, found.attributes.permissions());
          } else {
            if (found != null) {
              remove(found.path);
            }
            Files.createDirectory(subdirectory);
            childKeep = null; // nothing to keep in a new directory
          }
        } catch (IOException e) {
          throw FileTrees.failure("sync the input directory", subdirectory, e);
        }
        sync(childDirectory, subdirectory, childKeep);
      }
    }

    /**
     * Removes from the disk and from {@code present} what the tree does not name, except kept
     * paths; the directories leading to kept paths are synced as if empty in the tree.
     */
    private void removeStrays(
        Directory expected, Map<String, Present> present, KeptPaths.Node keep) {
      Set<String> names = names(expected);
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
          if (kept != null && found.attributes.isDirectory()) {
            DirectoryTrees.grantOwner(found.path, found.attributes.permissions());
            sync(Directory.getDefaultInstance(), found.path, kept);
            continue;
          }
          remove(found.path);
        } catch (IOException e) {
          throw FileTrees.failure("remove", found.path, e);
        }
      }
    }

    private void remove(Path path) throws IOException {
      removed += DirectoryTrees.delete(path);
    }

    /**
     * Whether {@code found} is what {@link ExecRootBuilder#placeFile} would put there now. Repairs
     * the cache's file or the executable copy when the action changed it through its link.
     */
    private boolean isInputFile(Present found, Digest digest, boolean executable)
        throws IOException {
      PosixFileAttributes attributes = found.attributes;
      if (!attributes.isRegularFile()) {
        return false;
      }
      if (digest.isEmpty()) {
        // Made for this path alone, not linked: its size and mode say everything.
        return attributes.size() == 0
            && attributes.permissions().equals(FileTrees.permissions(executable));
      }
      Object key = attributes.fileKey();
      if (key == null) {
        return false; // a link cannot be told from a copy here: link again
      }
      Source source = source(digest, executable);
      if (!key.equals(source.key)) {
        return false;
      }
      if (isIntact(attributes, digest, executable)) {
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

    private boolean isIntact(PosixFileAttributes attributes, Digest digest, boolean executable) {
      Set<PosixFilePermission> permissions = attributes.permissions();
      return attributes.size() == digest.sizeBytes()
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
      if (found.attributes.size() == digest.sizeBytes() && hasHash(found.path, digest)) {
        Files.getFileAttributeView(
                found.path, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
            .setPermissions(FileTrees.READ_ONLY);
        log.warn(
            "The input {} had its mode changed through its link, and with it the local cache's"
                + " file of {}; made it read-only again",
            found.path,
            digest);
        return true;
      }
      log.warn(
          "The input {} was written through its link, and with it the local cache's file of {};"
              + " dropping that file so the blob is fetched again. A persistent worker must not"
              + " write to its inputs; its other exec roots may hold the damaged bytes too.",
          found.path,
          digest);
      BasicFileAttributes now = FileTrees.attributesOrNull(source.path);
      if (now != null && source.key.equals(now.fileKey())) {
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

  private static Source identify(Path file) throws IOException {
    BasicFileAttributes attributes = FileTrees.attributesOrNull(file);
    return attributes == null ? Source.NONE : new Source(file, attributes.fileKey());
  }

  private static Map<String, Present> list(Path dir) {
    Map<String, Present> present = new HashMap<>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
      for (Path entry : entries) {
        PosixFileAttributes attributes = FileTrees.posixAttributesOrNull(entry);
        if (attributes != null) {
          present.put(entry.getFileName().toString(), new Present(entry, attributes));
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
