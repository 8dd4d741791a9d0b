package build.hearth.core.storage;

import build.hearth.api.Digest;
import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import build.hearth.core.internal.DirectoryLock;
import build.hearth.core.internal.Threads;
import build.hearth.core.storage.LruIndex.Use;
import build.hearth.core.storage.LruIndex.Victim;
import build.hearth.spi.storage.BlobStore;
import build.hearth.spi.storage.LocalBlobFiles;
import build.hearth.spi.storage.StoreSettings;
import build.hearth.spi.storage.StoreStats;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A blob store in a directory: {@code blobs/<first two hex characters>/<hash>}, one file per blob,
 * whose length is the blob's size. Uploads go to {@code tmp/} and are renamed into place atomically
 * on commit (after an fsync when {@code fsync} is set), so a blob file is always whole. The index
 * (sizes and strict LRU order) lives in memory and is rebuilt from the files on open, ordered by
 * their modification times; a use refreshes a file's time at most once a minute, so lookups almost
 * never touch the disk.
 *
 * <p>Readers hold an open file, so a blob evicted while it is read stays readable until the reader
 * closes it (POSIX semantics; this store targets Linux and macOS). Evicted files of a megabyte or
 * more are renamed into {@code tmp/} and deleted there by a background thread, so an upload that
 * evicts does not wait for the kernel to free them.
 */
final class FilesystemBlobStore implements BlobStore, LocalBlobFiles {
  private static final String TEMP_PREFIX = "blob-";
  private static final String EVICTED_PREFIX = "evicted-";
  private static final String LOCK_FILE = "blob-store.lock";

  /**
   * Evicted files at least this large are deleted by the store's deleter thread rather than by the
   * commit that evicted them; below it, deleting costs less than handing the work over.
   */
  static final long BACKGROUND_DELETE_MIN_BYTES = 1024 * 1024;

  private static final Logger log = LoggerFactory.getLogger(FilesystemBlobStore.class);
  private static final long CLOSE_DELETE_WAIT_SECONDS = 10;
  private static final int WRITE_BUFFER_BYTES = 64 * 1024;

  /**
   * The block each file is charged in whole units of: what a file system such as ext4 or XFS
   * allocates, so a 1-byte blob costs the disk 4 KiB, and a flood of them is bounded by maxSize.
   */
  static final long BLOCK_BYTES = 4096;

  /**
   * An upload reserves room for its bytes in steps of at least this many, not on every write: a
   * step costs a trip through the index's lock, and maybe evictions.
   */
  static final long RESERVE_STEP_BYTES = 1024 * 1024;

  /** How long a client should wait when the store is full of uploads in progress. */
  static final Duration FULL_RETRY = Duration.ofSeconds(1);

  private static final long DIRECT_BUFFER_MIN_BLOB_BYTES = 1024 * 1024;

  private final String name;
  private final Path blobsDir;
  private final Path tmpDir;
  private final long capacityBytes;
  private final Clock clock;
  private final LruIndex<String> index;
  private final Set<FileUpload> uploads = ConcurrentHashMap.newKeySet();
  private final ThreadPoolExecutor deleter;
  private final AtomicLong evictedFiles = new AtomicLong();
  private final AtomicLong uploadFiles = new AtomicLong();
  private volatile boolean closed;
  private DirectoryLock lock;

  private final boolean fsync;

  private FilesystemBlobStore(
      String name, Path root, long capacityBytes, long blockBytes, boolean fsync, Clock clock) {
    this.fsync = fsync;
    this.name = name;
    this.blobsDir = root.resolve("blobs");
    this.tmpDir = root.resolve("tmp");
    this.capacityBytes = capacityBytes;
    this.clock = clock;
    this.index =
        new LruIndex<>(
            capacityBytes, size -> LruIndex.blockCharge(size, blockBytes, capacityBytes));
    // At most one thread, which ends after a quiet spell: most stores seldom evict large files.
    this.deleter =
        new ThreadPoolExecutor(
            0,
            1,
            10,
            TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(),
            Threads.daemon("hearth-store-" + name + "-delete-"));
  }

  /**
   * Opens the store under {@code root}, creating it if needed: deletes unfinished uploads, indexes
   * the blobs and evicts down to {@code capacityBytes}. The directory is locked ({@value
   * #LOCK_FILE}) until {@link #close()}, so a second store over it, in this process or another,
   * fails to open and names the holder.
   */
  static FilesystemBlobStore open(
      String name,
      StoreSettings settings,
      Path root,
      long capacityBytes,
      long blockBytes,
      boolean fsync,
      Clock clock) {
    FilesystemBlobStore store =
        new FilesystemBlobStore(name, root, capacityBytes, blockBytes, fsync, clock);
    store.lock = StoreFiles.lock(settings, root, LOCK_FILE, "blob store '" + name + "'");
    try {
      StoreFiles.createDirectory(settings, "path", store.tmpDir);
      StoreFiles.createDirectory(settings, "path", store.blobsDir);
      StoreFiles.deleteLeftovers(
          store.tmpDir,
          "unfinished uploads and evicted blobs not yet deleted",
          TEMP_PREFIX,
          EVICTED_PREFIX);
      List<Victim<String>> victims =
          store.index.load(
              StoreFiles.scan(
                  store.blobsDir,
                  (shard, file) ->
                      Digest.isValidHash(file) && file.startsWith(shard) ? file : null));
      store.index.dispose(victims, store::deleteEvicted);
      return store;
    } catch (RuntimeException e) {
      store.close();
      throw e;
    }
  }

  @Override
  public boolean contains(Digest digest) {
    checkOpen();
    Use use = index.use(digest.hash(), clock.millis());
    if (use == null || use.size() != digest.sizeBytes()) {
      return false;
    }
    touchIfAsked(digest.hash(), use);
    return true;
  }

  @Override
  public Set<Digest> findMissing(Collection<Digest> digests) {
    checkOpen();
    List<Digest> asked = new ArrayList<>(digests);
    List<String> hashes = new ArrayList<>(asked.size());
    for (Digest digest : asked) {
      hashes.add(digest.hash());
    }
    List<Use> uses = index.useAll(hashes, clock.millis());
    Set<Digest> missing = new HashSet<>();
    for (int i = 0; i < asked.size(); i++) {
      Use use = uses.get(i);
      Digest digest = asked.get(i);
      if (use == null || use.size() != digest.sizeBytes()) {
        missing.add(digest);
      } else {
        touchIfAsked(digest.hash(), use);
      }
    }
    return missing;
  }

  @Override
  public Optional<InputStream> read(Digest digest, long offset) {
    checkOpen();
    Use use = index.use(digest.hash(), clock.millis());
    if (use == null || use.size() != digest.sizeBytes()) {
      return Optional.empty();
    }
    Path file = blobFile(digest.hash());
    FileChannel channel;
    try {
      channel = FileChannel.open(file, StandardOpenOption.READ);
    } catch (NoSuchFileException e) {
      // Evicted since the lookup, or deleted behind the store's back.
      forgetIfBroken(digest.hash());
      return Optional.empty();
    } catch (IOException e) {
      throw StoreFiles.failure(storeLabel(), StatusCode.INTERNAL, "open the blob file", file, e);
    }
    try {
      if (channel.size() != digest.sizeBytes()) {
        channel.close();
        forgetIfBroken(digest.hash());
        return Optional.empty();
      }
      channel.position(offset);
    } catch (IOException e) {
      closeQuietly(channel);
      throw StoreFiles.failure(storeLabel(), StatusCode.INTERNAL, "read the blob file", file, e);
    }
    touchIfAsked(digest.hash(), use);
    return Optional.of(Channels.newInputStream(channel));
  }

  @Override
  public Optional<Path> pathOf(Digest digest) {
    checkOpen();
    Use use = index.use(digest.hash(), clock.millis());
    if (use == null || use.size() != digest.sizeBytes()) {
      return Optional.empty();
    }
    Path file = blobFile(digest.hash());
    if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
      // Deleted behind the store's back: forget it, so the caller fetches it again.
      forgetIfBroken(digest.hash());
      return Optional.empty();
    }
    touchIfAsked(digest.hash(), use);
    return Optional.of(file);
  }

  @Override
  public Upload startUpload(Digest digest) {
    checkOpen();
    if (digest.sizeBytes() > capacityBytes) {
      throw HearthException.resourceExhausted(
          "blob %s is %d bytes, more than blob store '%s' can hold (maxSize is %d bytes);"
              + " raise its maxSize",
          digest, digest.sizeBytes(), name, capacityBytes);
    }
    // One open with a name from a counter, not createTempFile and a second open: a flood of tiny
    // blobs pays per system call. The lock on the directory makes the names this store's alone,
    // and open() deletes a previous run's.
    Path temp;
    FileChannel channel;
    while (true) {
      temp = tmpDir.resolve(TEMP_PREFIX + uploadFiles.incrementAndGet() + ".tmp");
      try {
        channel = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        break;
      } catch (FileAlreadyExistsException e) {
        // Left by someone else; take the next name.
      } catch (IOException e) {
        throw StoreFiles.failure(
            storeLabel(), StatusCode.UNAVAILABLE, "create the upload file", temp, e);
      }
    }
    FileUpload upload = new FileUpload(digest, temp, channel);
    uploads.add(upload);
    if (closed) {
      // close() may have swept the uploads just before this one was added.
      upload.discard(true);
      checkOpen();
    }
    return upload;
  }

  @Override
  public StoreStats stats() {
    return index.stats();
  }

  @Override
  public void close() {
    closed = true;
    for (FileUpload upload : uploads) {
      upload.discard(true);
    }
    // Let the pending deletes finish, so that nothing of this store touches the directory after
    // close; whatever is left (an interrupt, a very slow disk) is deleted when the store reopens.
    deleter.shutdown();
    try {
      if (!deleter.awaitTermination(CLOSE_DELETE_WAIT_SECONDS, TimeUnit.SECONDS)) {
        log.warn(
            "Blob store '{}' closed with evicted files still to delete in {}; they are deleted"
                + " when it reopens",
            name,
            tmpDir);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      lock.close();
    }
  }

  @Override
  public String toString() {
    return "FilesystemBlobStore{" + name + " at " + blobsDir.getParent() + "}";
  }

  /** Bytes that count against maxSize: blobs by whole blocks, plus uploads' reservations. */
  long chargedBytes() {
    return index.chargedBytes();
  }

  private String storeLabel() {
    return "blob store '" + name + "'";
  }

  private Path blobFile(String hash) {
    return StoreFiles.shardedFile(blobsDir, hash, hash);
  }

  private void touchIfAsked(String hash, Use use) {
    if (use.touchFile()) {
      StoreFiles.touch(blobFile(hash), clock.millis());
    }
  }

  /**
   * Drops {@code hash} from the index if its file is gone or has the wrong length, so the index
   * does not keep promising a blob it cannot deliver.
   */
  private void forgetIfBroken(String hash) {
    Path file = blobFile(hash);
    index.claim(hash);
    List<Victim<String>> victims;
    try {
      Use use = index.use(hash, clock.millis());
      if (use != null) {
        long length = Files.exists(file) ? Files.size(file) : -1;
        if (length != use.size()) {
          index.remove(hash);
          if (length >= 0) {
            StoreFiles.deleteQuietly(file);
          }
        }
      }
    } catch (NoSuchFileException e) {
      index.remove(hash);
    } catch (IOException e) {
      throw StoreFiles.failure(storeLabel(), StatusCode.INTERNAL, "check the blob file", file, e);
    } finally {
      victims = index.release(hash);
    }
    index.dispose(victims, this::deleteEvicted);
  }

  /**
   * Removes an evicted blob's file. Deleting a large file frees its page cache and its blocks,
   * which costs the kernel milliseconds per hundred megabytes; the commit that caused the eviction
   * should not wait for that. So a large file is only renamed out of {@code blobs/} here (cheap and
   * atomic: from then on the blob is gone, while readers that have it open keep reading) and
   * deleted by the deleter thread. A crash in between leaves it in {@code tmp/}, which {@link
   * #open} empties.
   */
  private void deleteEvicted(Victim<String> victim) {
    Path file = blobFile(victim.key());
    if (victim.size() < BACKGROUND_DELETE_MIN_BYTES) {
      StoreFiles.deleteQuietly(file);
      return;
    }
    Path doomed =
        tmpDir.resolve(EVICTED_PREFIX + victim.key() + "-" + evictedFiles.incrementAndGet());
    try {
      Files.move(file, doomed);
    } catch (NoSuchFileException e) {
      return;
    } catch (IOException e) {
      StoreFiles.deleteQuietly(file);
      return;
    }
    try {
      deleter.execute(() -> StoreFiles.deleteQuietly(doomed));
    } catch (RejectedExecutionException e) {
      // The store is closing.
      StoreFiles.deleteQuietly(doomed);
    }
  }

  private void checkOpen() {
    if (closed) {
      throw new HearthException(StatusCode.UNAVAILABLE, "blob store '" + name + "' is closed");
    }
  }

  private static void closeQuietly(FileChannel channel) {
    try {
      channel.close();
    } catch (IOException e) {
      // Nothing was written through it; the original failure matters more.
    }
  }

  /** Writes to a temporary file; the store discards it if the store closes first. */
  private final class FileUpload implements Upload {
    private final Digest digest;
    private final Path temp;
    private final FileChannel channel;
    private final ByteBuffer buffer;
    private long written;
    // The room this upload holds in the index; given back on discard, handed to the entry on
    // commit.
    private long reserved;
    private boolean done;
    private boolean discardedByStore;

    FileUpload(Digest digest, Path temp, FileChannel channel) {
      this.digest = digest;
      this.temp = temp;
      this.channel = channel;
      int capacity = (int) Math.min(WRITE_BUFFER_BYTES, digest.sizeBytes() + 1);
      // A direct buffer saves the JDK's copy into one of its own on every flush; it costs a
      // native allocation that only large uploads repay.
      this.buffer =
          digest.sizeBytes() >= DIRECT_BUFFER_MIN_BLOB_BYTES
              ? ByteBuffer.allocateDirect(capacity)
              : ByteBuffer.allocate(capacity);
    }

    @Override
    public void write(byte[] data, int offset, int length) {
      Objects.checkFromIndexSize(offset, length, data.length);
      write(List.of(ByteBuffer.wrap(data, offset, length)));
    }

    /**
     * Copies small pieces into the write buffer; writes large ones with one gathering write, so
     * direct buffers (the network's, during a ByteStream Write) reach the file with no copy in this
     * process.
     */
    @Override
    public synchronized void write(List<ByteBuffer> data) {
      checkWritable();
      long length = 0;
      for (ByteBuffer piece : data) {
        length += piece.remaining();
      }
      // Bytes past the digest's size are only counted: commit() refuses the upload anyway.
      long keep = Math.max(0, Math.min(length, digest.sizeBytes() - written));
      List<ByteBuffer> kept = keep < length ? firstBytes(data, keep) : data;
      reserveFor(written + keep);
      try {
        if (keep >= buffer.capacity()) {
          flush();
          StoreFiles.writeFully(channel, kept.toArray(ByteBuffer[]::new), keep);
        } else {
          for (ByteBuffer piece : kept) {
            if (piece.remaining() > buffer.remaining()) {
              flush();
            }
            buffer.put(piece);
          }
        }
      } catch (IOException e) {
        discard(false);
        throw StoreFiles.failure(
            storeLabel(), StatusCode.UNAVAILABLE, "write the upload file", temp, e);
      }
      written += length;
    }

    /**
     * Makes sure this upload holds room for {@code bytes} bytes of file, reserving a step more, and
     * evicting older blobs, when it does not; refuses the upload when the rest of the store is
     * reserved or claimed by other writes in progress.
     */
    private void reserveFor(long bytes) {
      long needed = index.chargeOf(bytes);
      if (needed <= reserved) {
        return;
      }
      long target =
          Math.min(
              index.chargeOf(digest.sizeBytes()), Math.max(needed, reserved + RESERVE_STEP_BYTES));
      List<Victim<String>> victims = index.reserve(target - reserved);
      if (victims == null) {
        discard(false);
        throw HearthException.limitReached(
            "blob_store_full",
            FULL_RETRY,
            "blob store '%s' has no room for %d more bytes of blob %s: everything it holds is"
                + " being written by uploads in progress (blobStores.%s.maxSize is %d bytes);"
                + " retry later, or raise its maxSize",
            name,
            target - reserved,
            digest,
            name,
            capacityBytes);
      }
      reserved = target;
      index.dispose(victims, FilesystemBlobStore.this::deleteEvicted);
    }

    /** The first {@code bytes} of {@code data}'s remaining bytes, as views of its buffers. */
    private static List<ByteBuffer> firstBytes(List<ByteBuffer> data, long bytes) {
      List<ByteBuffer> first = new ArrayList<>();
      for (ByteBuffer piece : data) {
        if (bytes == 0) {
          break;
        }
        int n = (int) Math.min(bytes, piece.remaining());
        first.add(piece.slice(piece.position(), n));
        bytes -= n;
      }
      return first;
    }

    @Override
    public synchronized long written() {
      return written;
    }

    @Override
    public void commit() {
      synchronized (this) {
        checkWritable();
        if (written != digest.sizeBytes()) {
          discard(false);
          throw HearthException.invalidArgument(
              "upload of blob %s ended after %d bytes but the digest says %d; nothing was stored",
              digest, written, digest.sizeBytes());
        }
        try {
          flush();
          if (fsync) {
            // Durable before it becomes visible, so even a power loss leaves a blob whole or
            // absent. Off by default: a process crash cannot tear a renamed file either way, and
            // a sync per blob costs milliseconds that a cache of small blobs cannot afford.
            channel.force(false);
          }
          channel.close();
        } catch (IOException e) {
          discard(false);
          throw StoreFiles.failure(
              storeLabel(), StatusCode.UNAVAILABLE, "write the upload file", temp, e);
        }
        done = true;
        uploads.remove(this);
      }
      publish();
    }

    /** Moves the file into place; the upload's reservation becomes the blob's room, or is freed. */
    private void publish() {
      long held = reserved;
      reserved = 0;
      String hash = digest.hash();
      Path target = blobFile(hash);
      long now = clock.millis();
      boolean alreadyThere = false;
      List<Victim<String>> victims;
      // The file's time orders eviction after a restart; use the store's clock, not the disk's.
      StoreFiles.touch(temp, now);
      index.claim(hash);
      try {
        Use use = index.use(hash, now);
        alreadyThere = use != null && use.size() == digest.sizeBytes();
        if (!alreadyThere) {
          StoreFiles.moveIntoPlace(temp, target);
          index.put(hash, digest.sizeBytes(), now, held);
          held = 0;
        } else if (use.touchFile()) {
          StoreFiles.touch(target, now);
        }
      } catch (IOException e) {
        StoreFiles.deleteQuietly(temp);
        throw StoreFiles.failure(
            storeLabel(), StatusCode.INTERNAL, "move the upload into place at", target, e);
      } finally {
        index.unreserve(held);
        victims = index.release(hash);
      }
      if (alreadyThere) {
        StoreFiles.deleteQuietly(temp);
      }
      index.dispose(victims, FilesystemBlobStore.this::deleteEvicted);
    }

    @Override
    public void close() {
      discard(false);
    }

    synchronized void discard(boolean byStore) {
      if (done) {
        return;
      }
      done = true;
      discardedByStore = byStore;
      uploads.remove(this);
      closeQuietly(channel);
      StoreFiles.deleteQuietly(temp);
      index.unreserve(reserved);
      reserved = 0;
    }

    private void flush() throws IOException {
      buffer.flip();
      StoreFiles.writeFully(channel, buffer);
      buffer.clear();
    }

    private void checkWritable() {
      if (discardedByStore) {
        throw new HearthException(
            StatusCode.UNAVAILABLE,
            "blob store '" + name + "' closed during the upload of " + digest);
      }
      if (done) {
        throw new IllegalStateException("upload of " + digest + " is already committed or closed");
      }
    }
  }
}
