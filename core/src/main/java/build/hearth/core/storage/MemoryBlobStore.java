package build.hearth.core.storage;

import build.hearth.api.Digest;
import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import build.hearth.spi.storage.BlobStore;
import build.hearth.spi.storage.StoreStats;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A blob store on the heap, one array per blob, bounded by the total of their sizes and evicting
 * the least recently used blobs first. A committed blob is always admitted, so it is readable right
 * after its commit. Readers keep a reference to the array, so eviction never disturbs a read in
 * progress.
 */
final class MemoryBlobStore implements BlobStore {
  /** The largest array a JVM reliably allocates. */
  static final int MAX_BLOB_BYTES = Integer.MAX_VALUE - 8;

  private final String name;
  private final ByteBoundedCache blobs;
  private final Set<MemoryUpload> uploads = ConcurrentHashMap.newKeySet();
  private volatile boolean closed;

  MemoryBlobStore(String name, long capacityBytes) {
    this(name, capacityBytes, 0);
  }

  MemoryBlobStore(String name, long capacityBytes, long entryOverheadBytes) {
    this.name = name;
    this.blobs = new ByteBoundedCache(capacityBytes, entryOverheadBytes);
  }

  @Override
  public boolean contains(Digest digest) {
    checkOpen();
    return blobs.get(digest) != null;
  }

  @Override
  public Set<Digest> findMissing(Collection<Digest> digests) {
    checkOpen();
    return blobs.absentAmong(digests);
  }

  @Override
  public Optional<InputStream> read(Digest digest, long offset) {
    checkOpen();
    byte[] blob = blobs.get(digest);
    if (blob == null) {
      return Optional.empty();
    }
    int start = (int) offset;
    return Optional.of(new ByteArrayInputStream(blob, start, blob.length - start));
  }

  @Override
  public Upload startUpload(Digest digest) {
    checkOpen();
    long limit = Math.min(blobs.capacityBytes(), MAX_BLOB_BYTES);
    if (digest.sizeBytes() > limit) {
      throw HearthException.resourceExhausted(
          "blob %s is %d bytes, more than memory blob store '%s' can hold (%d bytes: its maxSize,"
              + " and at most one Java array); raise maxSize or use a filesystem store",
          digest, digest.sizeBytes(), name, limit);
    }
    MemoryUpload upload = new MemoryUpload(digest);
    uploads.add(upload);
    if (closed) {
      upload.discard(true);
      checkOpen();
    }
    return upload;
  }

  @Override
  public StoreStats stats() {
    return blobs.stats();
  }

  @Override
  public void close() {
    closed = true;
    for (MemoryUpload upload : uploads) {
      upload.discard(true);
    }
    blobs.clear();
  }

  /** Bytes that count against maxSize: each blob's length plus its per-entry overhead. */
  long chargedBytes() {
    return blobs.chargedBytes();
  }

  @Override
  public String toString() {
    return "MemoryBlobStore{" + name + "}";
  }

  private void checkOpen() {
    if (closed) {
      throw new HearthException(StatusCode.UNAVAILABLE, "blob store '" + name + "' is closed");
    }
  }

  /**
   * Collects bytes in an array that grows with the bytes that arrive, doubling up to the digest's
   * size (which startUpload has checked fits the store and a Java array), so a client that declares
   * a large blob and sends little holds little: memory follows what was sent, never what was
   * promised. The last growth lands on exactly the digest's size, so the committed blob is that
   * array; a blob's bytes are copied at most about once more in all by the growth.
   */
  private final class MemoryUpload implements Upload {
    private final Digest digest;
    // Grown as bytes arrive, so an upload that is started and never fed costs nothing.
    private byte[] buffer;
    private long written;
    private boolean done;
    private boolean discardedByStore;

    MemoryUpload(Digest digest) {
      this.digest = digest;
    }

    @Override
    public synchronized void write(byte[] data, int offset, int length) {
      Objects.checkFromIndexSize(offset, length, data.length);
      checkWritable();
      append(ByteBuffer.wrap(data, offset, length));
    }

    @Override
    public synchronized void write(List<ByteBuffer> data) {
      checkWritable();
      for (ByteBuffer piece : data) {
        append(piece);
      }
    }

    private void append(ByteBuffer piece) {
      int length = piece.remaining();
      // Bytes past the digest's size are only counted: commit() refuses the upload anyway.
      int keep = (int) Math.max(0, Math.min(length, digest.sizeBytes() - written));
      if (keep > 0) {
        ensureCapacity((int) written + keep);
        piece.get(buffer, (int) written, keep);
      }
      written += length;
    }

    /** Grows the buffer to hold {@code needed} bytes: doubling, at most the digest's size. */
    private void ensureCapacity(int needed) {
      int current = buffer == null ? 0 : buffer.length;
      if (needed <= current) {
        return;
      }
      long doubled = Math.max(needed, 2L * current);
      int capacity = (int) Math.min(digest.sizeBytes(), doubled);
      buffer = buffer == null ? new byte[capacity] : Arrays.copyOf(buffer, capacity);
    }

    @Override
    public synchronized long written() {
      return written;
    }

    @Override
    public synchronized void commit() {
      checkWritable();
      if (written != digest.sizeBytes()) {
        discard(false);
        throw HearthException.invalidArgument(
            "upload of blob %s ended after %d bytes but the digest says %d; nothing was stored",
            digest, written, digest.sizeBytes());
      }
      byte[] blob = buffer == null ? new byte[0] : buffer;
      done = true;
      buffer = null;
      uploads.remove(this);
      blobs.putIfAbsent(digest, blob);
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
      buffer = null;
      uploads.remove(this);
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
