package build.hearth.core.execroot;

import build.hearth.api.ContentAddressableStorage;
import build.hearth.api.Digest;
import build.hearth.api.HearthException;
import build.hearth.core.cas.CasFactory;
import build.hearth.core.cas.DirectoryBlobs;
import build.hearth.core.internal.DirectoryTrees;
import build.hearth.spi.storage.BlobStore;
import build.hearth.spi.storage.LocalBlobFiles;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes exec roots for a worker: validates an action's input tree, fetches the blobs its local
 * cache lacks from the source CAS, and materializes the tree as hard links into a fresh directory
 * under the work directory.
 *
 * <pre>{@code
 * try (ExecRoots roots = ExecRoots.newBuilder()
 *         .workDirectory(Path.of("/var/lib/hearth/work"))
 *         .localCache(filesystemBlobStore)
 *         .source(cas)
 *         .executor(fetchPool)
 *         .build();
 *     ExecRoot root = roots.prepare(inputRootDigest)) {
 *   ...
 * }
 * }</pre>
 *
 * <p>Input trees are checked before anything is created: a name that is not a single path component
 * ({@code ""}, {@code .}, {@code ..}, one with {@code /}), unsorted or duplicate entries, a name
 * used twice in one directory, or a symlink that leads out of the exec root (absolute ones unless
 * {@link Builder#allowAbsoluteSymlinks}) is refused with INVALID_ARGUMENT naming the path.
 *
 * <p>The work directory belongs to one instance: opening deletes the exec roots a previous run left
 * behind. It should be on the same file system as the local cache, or input files are copied rather
 * than linked. Input files in an exec root are hard links that share their inode with the cache,
 * with exactly the mode {@code r--r--r--} ({@code r-xr-xr-x} for executables). An action running as
 * the worker's user could restore their write permission and change the cached bytes, so closing an
 * exec root checks the files it linked to and removes what changed from the cache (see {@code
 * LinkedInputs}); an exec root {@link ExecRoot#handOver handed over} to an action user, who cannot
 * change the worker's files at all, needs no check.
 *
 * <p>A persistent worker's tool process keeps one directory instead, which {@link #sync} updates
 * with each request's inputs, changing only what differs from the previous request's.
 *
 * <p>Thread-safe: many exec roots may be prepared, and many directories synced, at once. {@link
 * #close()} deletes the executable copies; it neither closes the local cache, the source nor the
 * executor, which the caller owns.
 */
public final class ExecRoots implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ExecRoots.class);
  private static final String EXEC_ROOT_PREFIX = "exec-";
  private static final String EXECUTABLES = "executables";

  private final Path workDirectory;
  private final Path executablesDirectory;
  private final InputTreeValidator validator;
  private final ExecRootBuilder builder;
  private final DirectorySync directorySync;
  private final LocalBlobFiles cacheFiles;
  private final ExecutableCopies executables;

  private ExecRoots(Builder b, Path workDirectory) {
    // The verifying CAS straight from its package: going through core.Storage would make this
    // package depend on the root package, which depends (through the worker) on this one.
    ContentAddressableStorage cache = CasFactory.cas(b.localCache, b.directories);
    LocalBlobFiles cacheFiles = (LocalBlobFiles) b.localCache;
    this.workDirectory = workDirectory;
    this.executablesDirectory = workDirectory.resolve(EXECUTABLES);
    ExecutableCopies executables = new ExecutableCopies(executablesDirectory, b.maxExecutableBytes);
    this.cacheFiles = cacheFiles;
    this.executables = executables;
    this.validator =
        new InputTreeValidator(
            DirectorySource.cached(cache, b.source),
            b.allowAbsoluteSymlinks,
            b.maxInputEntries,
            b.directories,
            new CheckedDirectories(b.maxCheckedDirectoryBytes));
    this.builder =
        new ExecRootBuilder(
            new BlobFetcher(cache, b.source, b.executor), cacheFiles, executables, b.linker);
    this.directorySync =
        new DirectorySync(
            builder,
            cacheFiles,
            executables,
            new SyncRecords(b.maxSyncRecordEntries),
            b.syncTrustAge);
  }

  public static Builder newBuilder() {
    return new Builder();
  }

  /** The directory under which exec roots are made. */
  public Path workDirectory() {
    return workDirectory;
  }

  /**
   * Validates the tree under {@code inputRoot}, fetches what the local cache lacks, and
   * materializes it in a new exec root. Nothing is created if the tree is refused.
   *
   * @throws HearthException INVALID_ARGUMENT if the tree is malformed (the message names the path);
   *     FAILED_PRECONDITION listing directories or files missing from the source CAS;
   *     RESOURCE_EXHAUSTED if the tree is too large or the disk is full; CANCELLED if the thread is
   *     interrupted; INTERNAL for other file-system failures
   */
  public ExecRoot prepare(Digest inputRoot) {
    Objects.requireNonNull(inputRoot, "inputRoot");
    long started = System.nanoTime();
    InputTree tree = validator.validate(inputRoot);
    long validated = System.nanoTime();
    builder.fetchInputs(tree);
    long fetched = System.nanoTime();
    Path root;
    try {
      root = Files.createTempDirectory(workDirectory, EXEC_ROOT_PREFIX).toRealPath();
    } catch (IOException e) {
      throw FileTrees.failure("create an exec root in", workDirectory, e);
    }
    LinkedInputs linked = new LinkedInputs(cacheFiles, executables);
    ExecRoot execRoot = new ExecRoot(root, linked);
    try {
      builder.materialize(tree, root, linked);
    } catch (RuntimeException e) {
      execRoot.close();
      throw e;
    }
    execRoot.prepareTimes(
        new PrepareTimes(
            Duration.ofNanos(validated - started),
            Duration.ofNanos(fetched - validated),
            Duration.ofNanos(System.nanoTime() - fetched)));
    return execRoot;
  }

  /**
   * Makes {@code directory} hold exactly the input tree under {@code inputRoot}, as {@link
   * #prepare} would materialize it, changing only what differs from what is there: for a tool
   * process, which keeps one directory across many requests, so that each request sees its own
   * inputs and nothing an earlier one left. Equivalent to {@code sync(inputRoot, directory,
   * Set.of())}.
   *
   * @throws HearthException as {@link #sync(Digest, Path, Set)}
   */
  public SyncedInputs sync(Digest inputRoot, Path directory) {
    return sync(inputRoot, directory, Set.of());
  }

  /**
   * Makes {@code directory} hold exactly the input tree under {@code inputRoot}, as {@link
   * #prepare} would materialize it, changing only what differs from what is there, and leaving the
   * {@code keep} paths alone.
   *
   * <p>The tree is validated and its missing blobs fetched exactly as for {@link #prepare}, before
   * the directory is touched: a refused tree leaves it as it was. Then the directory and the tree
   * are walked together. An input file stays if the entry at its path is still the hard link
   * prepare would make (the same inode as the cached blob, or as its executable copy, with the
   * blob's size and an unchanged mode), an empty input file if it is still empty with the right
   * mode, a symlink if its target is the same; anything else is deleted (a directory with all it
   * holds, a symlink itself and never what it points to), and the missing entries are created.
   * Directories the previous action made read-only get their owner's permissions back. So a
   * directory in any state, such as one a crashed request left behind, ends up right. Files an
   * action wrote through an input link are repaired in the cache too (see the package's {@code
   * DirectorySync}).
   *
   * <p>{@code keep} lists paths relative to {@code directory} ({@code /} between components, such
   * as {@code _sandbox} or {@code a/b}) that the sync neither looks into, deletes nor creates; the
   * directories leading to a kept path stay even where the tree lacks them, but their other entries
   * are synced like any others. The tree may not have an entry at a kept path, nor a file or
   * symlink on the way to one.
   *
   * <p>{@code directory} is created if missing. It should be on the same file system as the local
   * cache and the work directory, or every input is copied, and then copied again at each sync.
   * Different directories may be synced at once, but one directory must not be synced twice at
   * once, nor changed by a running action while it is synced. If the sync fails midway, the
   * directory is left partly synced; the next sync repairs it.
   *
   * @param keep relative paths to leave alone; may be empty
   * @return the input files (for the {@code WorkRequest}), the tool inputs, and counts of the work
   *     done
   * @throws IllegalArgumentException if a {@code keep} path is empty, absolute, or has an empty,
   *     {@code .} or {@code ..} component
   * @throws HearthException INVALID_ARGUMENT if the tree is malformed or has an input at or on the
   *     way to a kept path (the message names the path); FAILED_PRECONDITION listing directories or
   *     files missing from the source CAS, or if {@code directory} is a file or symlink;
   *     RESOURCE_EXHAUSTED if the tree is too large or the disk is full; CANCELLED if the thread is
   *     interrupted while fetching; INTERNAL for other file-system failures
   */
  public SyncedInputs sync(Digest inputRoot, Path directory, Set<String> keep) {
    return sync(inputFiles(inputRoot), directory, keep);
  }

  /**
   * {@link #sync(Digest, Path, Set)} for a tree that {@link #inputFiles} has validated already, so
   * that a request's tree is read and checked once, not once for its listing and again for its
   * sync.
   *
   * @throws HearthException as {@link #sync(Digest, Path, Set)}, except for a malformed tree
   */
  public SyncedInputs sync(InputFiles inputs, Path directory, Set<String> keep) {
    Objects.requireNonNull(inputs, "inputs");
    Objects.requireNonNull(directory, "directory");
    KeptPaths kept = KeptPaths.of(Objects.requireNonNull(keep, "keep"));
    kept.checkAgainst(inputs.tree());
    builder.fetchInputs(inputs.tree());
    return directorySync.sync(inputs, directory, kept);
  }

  /**
   * Validates the tree under {@code inputRoot} exactly as {@link #sync} does and lists its files,
   * without fetching or creating anything.
   *
   * @throws HearthException INVALID_ARGUMENT if the tree is malformed; FAILED_PRECONDITION listing
   *     directories missing from the source CAS; RESOURCE_EXHAUSTED if it is too large
   */
  public InputFiles inputFiles(Digest inputRoot) {
    return InputFiles.of(validator.validate(Objects.requireNonNull(inputRoot, "inputRoot")));
  }

  /**
   * Deletes the executable copies. Exec roots still open stay usable; {@link #prepare} may not be
   * called any more.
   */
  @Override
  public void close() {
    try {
      DirectoryTrees.delete(executablesDirectory);
    } catch (IOException e) {
      log.warn("Cannot delete {}: {}", executablesDirectory, e.toString());
    }
  }

  @Override
  public String toString() {
    return "ExecRoots{" + workDirectory + "}";
  }

  private static void deleteLeftovers(Path workDirectory) throws IOException {
    int deleted = 0;
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(workDirectory)) {
      for (Path entry : entries) {
        String name = entry.getFileName().toString();
        if (name.startsWith(EXEC_ROOT_PREFIX) || name.equals(EXECUTABLES)) {
          DirectoryTrees.delete(entry);
          deleted++;
        }
      }
    }
    if (deleted > 0) {
      log.info(
          "Deleted {} exec roots and copies left in {} by an earlier run", deleted, workDirectory);
    }
  }

  /**
   * Configures {@link ExecRoots}. The work directory, local cache, source and executor are
   * required.
   */
  public static final class Builder {
    static final long DEFAULT_MAX_INPUT_ENTRIES = 10_000_000;
    static final long DEFAULT_MAX_EXECUTABLE_BYTES = 1L << 30;

    private Path workDirectory;
    private BlobStore localCache;
    private ContentAddressableStorage source;
    private Executor executor;
    private boolean allowAbsoluteSymlinks;
    private long maxInputEntries = DEFAULT_MAX_INPUT_ENTRIES;
    private long maxExecutableBytes = DEFAULT_MAX_EXECUTABLE_BYTES;
    private long maxCheckedDirectoryBytes = InputTreeValidator.DEFAULT_CHECKED_BYTES;
    private long maxSyncRecordEntries = 200_000;
    private Duration syncTrustAge = Duration.ofSeconds(2);
    private DirectoryBlobs directories = DirectoryBlobs.DEFAULTS;
    private ExecRootBuilder.Linker linker = Files::createLink;

    private Builder() {}

    /** Where exec roots are made; created if missing. */
    public Builder workDirectory(Path workDirectory) {
      this.workDirectory = Objects.requireNonNull(workDirectory, "workDirectory");
      return this;
    }

    /**
     * The local CAS cache: a {@code filesystem} blob store, whose files input files are linked to.
     * The caller keeps owning it.
     *
     * @throws IllegalArgumentException if the store does not keep its blobs in files
     */
    public Builder localCache(BlobStore store) {
      Objects.requireNonNull(store, "store");
      if (!(store instanceof LocalBlobFiles)) {
        throw new IllegalArgumentException(
            "the local cache must be a 'filesystem' blob store, whose files can be linked; got "
                + store);
      }
      this.localCache = store;
      return this;
    }

    /** Where blobs missing from the local cache come from (the server's CAS). */
    public Builder source(ContentAddressableStorage source) {
      this.source = Objects.requireNonNull(source, "source");
      return this;
    }

    /**
     * Runs the fetches of missing blobs, several at once; its size bounds how many streams are
     * open. {@link ExecRoots#prepare} waits for them, so do not call it from this executor's own
     * threads (a bounded pool would starve). The caller shuts it down.
     */
    public Builder executor(Executor executor) {
      this.executor = Objects.requireNonNull(executor, "executor");
      return this;
    }

    /** Whether input symlinks may have absolute targets; false by default. */
    public Builder allowAbsoluteSymlinks(boolean allow) {
      this.allowAbsoluteSymlinks = allow;
      return this;
    }

    /** The most entries an input tree may materialize to; 10 million by default. */
    public Builder maxInputEntries(long max) {
      if (max <= 0) {
        throw new IllegalArgumentException("maxInputEntries must be positive, got " + max);
      }
      this.maxInputEntries = max;
      return this;
    }

    /**
     * The largest Directory blob of an input tree read whole; 16 MiB by default. A larger one fails
     * the action with INVALID_ARGUMENT before it is fetched.
     *
     * @throws IllegalArgumentException if it is below 1 KiB or above 2 GiB
     */
    public Builder maxDirectoryBytes(long max) {
      this.directories = DirectoryBlobs.forDirectories(max);
      return this;
    }

    /** The most bytes of executable copies kept for linking; 1 GiB by default. */
    public Builder maxExecutableBytes(long max) {
      if (max <= 0) {
        throw new IllegalArgumentException("maxExecutableBytes must be positive, got " + max);
      }
      this.maxExecutableBytes = max;
      return this;
    }

    /**
     * The most bytes of checked input directories kept between actions, so that the next tree that
     * shares directories with an earlier one (the same tree again, a persistent worker's next
     * request) reads and checks only the directories that differ; 64 MiB by default, each directory
     * charged four times its serialized size. 0 keeps none.
     */
    public Builder maxCheckedDirectoryBytes(long max) {
      if (max < 0) {
        throw new IllegalArgumentException(
            "maxCheckedDirectoryBytes must not be negative, got " + max);
      }
      this.maxCheckedDirectoryBytes = max;
      return this;
    }

    /**
     * The most entries (files, symlinks, directories) whose state {@link #sync} records between
     * syncs of a directory, so that the next sync of it checks an unchanged file with one {@code
     * lstat} and does not list an unchanged directory; 200,000 by default (about 30 MB at most),
     * the least recently synced directories forgotten first. 0 records nothing: every sync then
     * lists every directory and checks every file against the local cache.
     */
    public Builder maxSyncRecordEntries(long max) {
      if (max < 0) {
        throw new IllegalArgumentException("maxSyncRecordEntries must not be negative, got " + max);
      }
      this.maxSyncRecordEntries = max;
      return this;
    }

    /**
     * How much older than a sync's start an entry's last change must be for the sync to record it
     * (two seconds by default, see {@link DirectorySync}); tests that cannot wait set it lower and
     * wait for the file system's clock to move instead.
     */
    Builder syncTrustAge(Duration age) {
      this.syncTrustAge = Objects.requireNonNull(age, "age");
      return this;
    }

    /** Replaces {@link Files#createLink}, to test the copy fallback. */
    Builder linker(ExecRootBuilder.Linker linker) {
      this.linker = Objects.requireNonNull(linker, "linker");
      return this;
    }

    /**
     * Creates the work directory if needed and deletes what an earlier run left in it.
     *
     * @throws IllegalStateException if a required setting is missing
     * @throws HearthException INTERNAL if the work directory cannot be prepared
     */
    public ExecRoots build() {
      if (workDirectory == null || localCache == null || source == null || executor == null) {
        throw new IllegalStateException(
            "ExecRoots needs a workDirectory, a localCache, a source and an executor");
      }
      Path dir;
      try {
        Files.createDirectories(workDirectory);
        dir = workDirectory.toRealPath();
        deleteLeftovers(dir);
        Files.createDirectory(dir.resolve(EXECUTABLES));
      } catch (IOException e) {
        throw FileTrees.failure("prepare the work directory", workDirectory, e);
      }
      return new ExecRoots(this, dir);
    }
  }
}
