package build.hearth.core.storage;

import build.hearth.api.Digest;
import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import build.hearth.core.internal.DirectoryLock;
import build.hearth.core.storage.LruIndex.Use;
import build.hearth.core.storage.LruIndex.Victim;
import build.hearth.spi.storage.ActionCacheStore;
import build.hearth.spi.storage.StoreSettings;
import build.hearth.spi.storage.StoreStats;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * An action-cache store in a directory: {@code ac/<first two hex characters>/<hash>-<size>}, one
 * file per entry. A put writes a temporary file in {@code tmp/} and renames it over the old entry,
 * so a reader opens either the old file or the new one, never a mix. Each file holds the entry in
 * an {@link ActionCacheEntryFrame} (length and checksum); with {@code fsync} (the default) the file
 * is flushed before the rename and the directory after it, so an entry that a put returned from
 * survives a crash of the machine whole. A file whose frame does not hold is a miss, removed with a
 * warning. Eviction is strict LRU by bytes, sharing {@link LruIndex} with {@link
 * FilesystemBlobStore}.
 */
final class FilesystemActionCacheStore implements ActionCacheStore {
  private static final org.slf4j.Logger log =
      org.slf4j.LoggerFactory.getLogger(FilesystemActionCacheStore.class);
  private static final String TEMP_PREFIX = "ac-";
  private static final String LOCK_FILE = "action-cache-store.lock";

  private final String name;
  private final Path acDir;
  private final Path tmpDir;
  private final long capacityBytes;
  private final Clock clock;
  private final LruIndex<Digest> index;
  private volatile boolean closed;
  private DirectoryLock lock;

  private final boolean fsync;

  private FilesystemActionCacheStore(
      String name, Path root, long capacityBytes, long blockBytes, boolean fsync, Clock clock) {
    this.fsync = fsync;
    this.name = name;
    this.acDir = root.resolve("ac");
    this.tmpDir = root.resolve("tmp");
    this.capacityBytes = capacityBytes;
    this.clock = clock;
    // Charged by the file's blocks, header included: what the disk loses per entry. A block of
    // one byte counts content only.
    this.index =
        new LruIndex<>(
            capacityBytes,
            size ->
                blockBytes == 1
                    ? size
                    : LruIndex.blockCharge(
                        size + ActionCacheEntryFrame.HEADER_BYTES, blockBytes, capacityBytes));
  }

  /**
   * Opens the store under {@code root}, creating it if needed, and locks it ({@value #LOCK_FILE})
   * until {@link #close()}; see {@link FilesystemBlobStore}.
   */
  static FilesystemActionCacheStore open(
      String name,
      StoreSettings settings,
      Path root,
      long capacityBytes,
      long blockBytes,
      boolean fsync,
      Clock clock) {
    FilesystemActionCacheStore store =
        new FilesystemActionCacheStore(name, root, capacityBytes, blockBytes, fsync, clock);
    store.lock = StoreFiles.lock(settings, root, LOCK_FILE, "action-cache store '" + name + "'");
    try {
      StoreFiles.createDirectory(settings, "path", store.tmpDir);
      StoreFiles.createDirectory(settings, "path", store.acDir);
      StoreFiles.deleteLeftovers(store.tmpDir, "unfinished writes", TEMP_PREFIX);
      // The index counts entries' bytes, as a put does: each file's size less its frame's header.
      // A file shorter than the header (a crash of the machine with fsync off) can never hold an
      // entry: it is deleted here, so the index counts exactly the files that may.
      List<LruIndex.Found<Digest>> found = new ArrayList<>();
      for (LruIndex.Found<Digest> f :
          StoreFiles.scan(store.acDir, FilesystemActionCacheStore::parseFileName)) {
        if (f.size() < ActionCacheEntryFrame.HEADER_BYTES) {
          log.warn(
              "Action-cache store '{}': deleting {}, {} bytes, shorter than an entry's header",
              name,
              store.entryFile(f.key()),
              f.size());
          StoreFiles.deleteQuietly(store.entryFile(f.key()));
          continue;
        }
        found.add(
            new LruIndex.Found<>(
                f.key(), f.size() - ActionCacheEntryFrame.HEADER_BYTES, f.modifiedMillis()));
      }
      List<Victim<Digest>> victims = store.index.load(found);
      store.index.dispose(victims, victim -> store.deleteEvicted(victim.key()));
      return store;
    } catch (RuntimeException e) {
      store.close();
      throw e;
    }
  }

  @Override
  public Optional<byte[]> get(Digest actionDigest) {
    checkOpen();
    Use use = index.use(actionDigest, clock.millis());
    if (use == null) {
      return Optional.empty();
    }
    Path file = entryFile(actionDigest);
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      forgetIfGone(actionDigest);
      return Optional.empty();
    } catch (IOException e) {
      throw StoreFiles.failure(
          storeLabel(), StatusCode.INTERNAL, "read the action-cache file", file, e);
    }
    StringBuilder whyNot = new StringBuilder();
    Optional<byte[]> entry = ActionCacheEntryFrame.unframe(bytes, whyNot);
    if (entry.isEmpty()) {
      log.warn(
          "Action-cache store '{}': dropping the damaged entry {} ({}); it is a miss",
          name,
          file,
          whyNot);
      remove(actionDigest);
      return Optional.empty();
    }
    if (use.touchFile()) {
      StoreFiles.touch(file, clock.millis());
    }
    return entry;
  }

  @Override
  public void put(Digest actionDigest, byte[] entry) {
    checkOpen();
    if (entry.length > capacityBytes) {
      throw HearthException.resourceExhausted(
          "action-cache entry for %s is %d bytes, more than action-cache store '%s' can hold"
              + " (maxSize is %d bytes); raise its maxSize",
          actionDigest, entry.length, name, capacityBytes);
    }
    long now = clock.millis();
    byte[] framed = ActionCacheEntryFrame.frame(entry);
    Path temp = writeTemp(framed, now);
    Path target = entryFile(actionDigest);
    List<Victim<Digest>> victims;
    index.claim(actionDigest);
    try {
      StoreFiles.moveIntoPlace(temp, target);
      if (fsync) {
        // The rename is in the directory: without this, a crash of the machine may lose it.
        StoreFiles.syncDirectory(target.getParent());
      }
      index.put(actionDigest, entry.length, now);
    } catch (IOException e) {
      StoreFiles.deleteQuietly(temp);
      throw StoreFiles.failure(
          storeLabel(), StatusCode.INTERNAL, "move an action-cache entry to", target, e);
    } finally {
      victims = index.release(actionDigest);
    }
    index.dispose(victims, victim -> deleteEvicted(victim.key()));
  }

  @Override
  public void remove(Digest actionDigest) {
    checkOpen();
    List<Victim<Digest>> victims;
    index.claim(actionDigest);
    try {
      index.remove(actionDigest);
      Files.deleteIfExists(entryFile(actionDigest));
    } catch (IOException e) {
      throw StoreFiles.failure(
          storeLabel(),
          StatusCode.INTERNAL,
          "delete the action-cache file",
          entryFile(actionDigest),
          e);
    } finally {
      victims = index.release(actionDigest);
    }
    index.dispose(victims, victim -> deleteEvicted(victim.key()));
  }

  @Override
  public StoreStats stats() {
    return index.stats();
  }

  @Override
  public void close() {
    closed = true;
    lock.close();
  }

  @Override
  public String toString() {
    return "FilesystemActionCacheStore{" + name + " at " + acDir.getParent() + "}";
  }

  private Path writeTemp(byte[] entry, long now) {
    Path temp;
    try {
      temp = Files.createTempFile(tmpDir, TEMP_PREFIX, ".tmp");
    } catch (IOException e) {
      throw StoreFiles.failure(
          storeLabel(), StatusCode.UNAVAILABLE, "create a temporary file in", tmpDir, e);
    }
    try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
      StoreFiles.writeFully(channel, ByteBuffer.wrap(entry));
      if (fsync) {
        channel.force(false);
      }
    } catch (IOException e) {
      StoreFiles.deleteQuietly(temp);
      throw StoreFiles.failure(
          storeLabel(), StatusCode.UNAVAILABLE, "write the temporary file", temp, e);
    }
    StoreFiles.touch(temp, now);
    return temp;
  }

  /** Drops the entry from the index if its file was deleted behind the store's back. */
  private void forgetIfGone(Digest actionDigest) {
    List<Victim<Digest>> victims;
    index.claim(actionDigest);
    try {
      if (!Files.exists(entryFile(actionDigest))) {
        index.remove(actionDigest);
      }
    } finally {
      victims = index.release(actionDigest);
    }
    index.dispose(victims, victim -> deleteEvicted(victim.key()));
  }

  private void deleteEvicted(Digest actionDigest) {
    StoreFiles.deleteQuietly(entryFile(actionDigest));
  }

  /** Bytes that count against maxSize: entries' files by whole blocks. */
  long chargedBytes() {
    return index.chargedBytes();
  }

  private String storeLabel() {
    return "action-cache store '" + name + "'";
  }

  private Path entryFile(Digest actionDigest) {
    String hash = actionDigest.hash();
    return StoreFiles.shardedFile(acDir, hash, hash + "-" + actionDigest.sizeBytes());
  }

  private static Digest parseFileName(String shard, String fileName) {
    int dash = fileName.indexOf('-');
    if (dash != Digest.HASH_LENGTH || !fileName.startsWith(shard)) {
      return null;
    }
    String hash = fileName.substring(0, dash);
    String size = fileName.substring(dash + 1);
    if (!Digest.isValidHash(hash)) {
      return null;
    }
    try {
      return new Digest(hash, Digest.parseSize(size));
    } catch (HearthException e) {
      return null;
    }
  }

  private void checkOpen() {
    if (closed) {
      throw new HearthException(
          StatusCode.UNAVAILABLE, "action-cache store '" + name + "' is closed");
    }
  }
}
