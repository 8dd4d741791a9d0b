package build.hearth.core.execroot;

import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.FileNode;
import build.bazel.remote.execution.v2.SymlinkNode;
import build.hearth.api.Digest;
import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import build.hearth.core.execroot.CheckedDirectories.Checked;
import build.hearth.spi.storage.LocalBlobFiles;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Materializes a validated input tree: fetches the blobs the local cache lacks, then creates the
 * directories, hard-links every file to its cached blob file (executables to their {@link
 * ExecutableCopies copy}), creates the empty file directly, and creates symlinks exactly as given
 * (the validator has checked them).
 *
 * <p>Cached blob files get exactly the mode {@code r--r--r--} (executable copies {@code r-xr-xr-x})
 * before they are linked: an action that opens an input for writing fails instead of changing the
 * cache through the shared inode, and an action running as another user can read every input. The
 * shared files an exec root links to are recorded in its {@link LinkedInputs}, checked when it
 * closes. When a link cannot be made (the cache on another file system, or a file with too many
 * links) the file is copied; the first time that happens is logged.
 *
 * <p>Thread-safe: several exec roots may be built at once.
 */
final class ExecRootBuilder {
  private static final Logger log = LoggerFactory.getLogger(ExecRootBuilder.class);

  /** How often one file is looked up again after the cache evicted it mid-build. */
  private static final int EVICTION_RETRIES = 3;

  /** Makes a hard link; a seam for tests of the copy fallback. */
  @FunctionalInterface
  interface Linker {
    void link(Path link, Path existing) throws IOException;
  }

  private final BlobFetcher fetcher;
  private final LocalBlobFiles cacheFiles;
  private final ExecutableCopies executables;
  private final Linker linker;
  private final AtomicBoolean copyLogged = new AtomicBoolean();

  ExecRootBuilder(
      BlobFetcher fetcher, LocalBlobFiles cacheFiles, ExecutableCopies executables, Linker linker) {
    this.fetcher = fetcher;
    this.cacheFiles = cacheFiles;
    this.executables = executables;
    this.linker = linker;
  }

  /** Fetches what the cache lacks of {@code tree}; see {@link BlobFetcher#fetchMissing}. */
  void fetchInputs(InputTree tree) {
    fetcher.fetchMissing(tree.files());
  }

  /**
   * Creates {@code tree} inside the existing, empty directory {@code root}. Call {@link
   * #fetchInputs} first; a blob evicted since is fetched again.
   *
   * @throws HearthException INTERNAL or RESOURCE_EXHAUSTED when the file system fails; whatever was
   *     created stays for the caller to delete
   */
  void materialize(InputTree tree, Path root, LinkedInputs linked) {
    createEntries(tree, tree.checked(tree.root()), root, linked);
  }

  private void createEntries(InputTree tree, Checked checked, Path dir, LinkedInputs linked) {
    Directory directory = checked.directory();
    Digest[] fileDigests = checked.fileDigests();
    for (int i = 0; i < fileDigests.length; i++) {
      FileNode file = directory.getFiles(i);
      Path path = dir.resolve(file.getName());
      try {
        placeFile(path, fileDigests[i], file.getIsExecutable(), linked);
      } catch (IOException e) {
        throw FileTrees.failure("create the input file", path, e);
      }
    }
    for (SymlinkNode symlink : directory.getSymlinksList()) {
      Path path = dir.resolve(symlink.getName());
      try {
        Files.createSymbolicLink(path, path.getFileSystem().getPath(symlink.getTarget()));
      } catch (IOException e) {
        throw FileTrees.failure("create the input symlink", path, e);
      }
    }
    Digest[] childDigests = checked.childDigests();
    for (int i = 0; i < childDigests.length; i++) {
      Path path = dir.resolve(directory.getDirectories(i).getName());
      try {
        Files.createDirectory(path);
      } catch (IOException e) {
        throw FileTrees.failure("create the input directory", path, e);
      }
      createEntries(tree, tree.checked(childDigests[i]), path, linked);
    }
  }

  /**
   * Creates the input file {@code path} (absent until now) with {@code digest}'s bytes: the empty
   * file directly, others as a link to the cached blob or to its executable copy.
   */
  void placeFile(Path path, Digest digest, boolean executable) throws IOException {
    placeFile(path, digest, executable, null);
  }

  /**
   * {@link #placeFile(Path, Digest, boolean)}, recording the shared file linked to in {@code
   * linked} (when not null).
   */
  private void placeFile(Path path, Digest digest, boolean executable, LinkedInputs linked)
      throws IOException {
    if (digest.isEmpty()) {
      Files.createFile(path);
      Files.setPosixFilePermissions(path, FileTrees.permissions(executable));
      return;
    }
    for (int attempt = 0; attempt <= EVICTION_RETRIES; attempt++) {
      Optional<Path> cached = cacheFiles.pathOf(digest);
      if (cached.isEmpty()) {
        fetcher.fetchMissing(Set.of(digest));
        continue;
      }
      try {
        Path existing = executable ? executables.copyOf(digest, cached.get()) : cached.get();
        // Once per shared file and exec root: later links to it need neither mode nor identity.
        PosixFileAttributes attributes =
            linked != null && linked.contains(existing)
                ? null
                : FileTrees.makeReadOnly(existing, executable);
        if (linkOrCopy(path, existing, executable) && attributes != null && linked != null) {
          linked.record(existing, attributes, digest, executable, path);
        }
        return;
      } catch (NoSuchFileException e) {
        // Evicted between the lookup and the link: look again.
        if (executable) {
          executables.forget(digest);
        }
      }
    }
    throw new HearthException(
        StatusCode.RESOURCE_EXHAUSTED,
        "input blob "
            + digest
            + " kept being evicted from the local cache while the exec root was built; the"
            + " cache is too small for the inputs of the actions running at once, raise its"
            + " maxSize");
  }

  /** Links {@code path} to {@code existing}, or copies it; returns whether it linked. */
  private boolean linkOrCopy(Path path, Path existing, boolean executable) throws IOException {
    try {
      linker.link(path, existing);
      return true;
    } catch (NoSuchFileException | FileAlreadyExistsException e) {
      throw e;
    } catch (IOException | UnsupportedOperationException e) {
      if (copyLogged.compareAndSet(false, true)) {
        log.warn(
            "Cannot hard-link input files from {} into {} ({}); copying such files instead, which"
                + " costs time and disk space. If the link crossed file systems, put the work"
                + " directory on the same one as the local cache.",
            existing.getParent(),
            path.getParent(),
            e.toString());
      }
    }
    Files.copy(existing, path);
    Files.setPosixFilePermissions(path, FileTrees.permissions(executable));
    return false;
  }
}
