package build.hearth.testing;

import build.hearth.api.Digest;
import build.hearth.api.HearthException;
import build.hearth.spi.storage.BlobStore;
import build.hearth.spi.storage.StoreStats;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * About the simplest blob store that passes the contract: arrays in a strict-LRU map under one
 * lock. The suite's own tests run against it, and its broken variants must fail.
 */
class ReferenceBlobStore implements BlobStore {
  private final long capacityBytes;
  private final LinkedHashMap<Digest, byte[]> blobs = new LinkedHashMap<>(16, 0.75f, true);
  private long sizeBytes;
  private long evictions;
  private long evictedBytes;
  private volatile boolean closed;

  ReferenceBlobStore(long capacityBytes) {
    this.capacityBytes = capacityBytes;
  }

  @Override
  public synchronized boolean contains(Digest digest) {
    return blobs.get(digest) != null;
  }

  @Override
  public synchronized Optional<InputStream> read(Digest digest, long offset) {
    byte[] blob = blobs.get(digest);
    if (blob == null) {
      return Optional.empty();
    }
    return Optional.of(new ByteArrayInputStream(blob, (int) offset, blob.length - (int) offset));
  }

  @Override
  public Upload startUpload(Digest digest) {
    checkOpen();
    if (digest.sizeBytes() > capacityBytes) {
      throw HearthException.resourceExhausted("blob %s is larger than the store", digest);
    }
    return new Upload() {
      private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

      @Override
      public void write(byte[] data, int offset, int length) {
        bytes.write(data, offset, length);
      }

      @Override
      public long written() {
        return bytes.size();
      }

      @Override
      public void commit() {
        if (bytes.size() != digest.sizeBytes()) {
          throw HearthException.invalidArgument("wrong length for %s", digest);
        }
        checkOpen();
        add(digest, bytes.toByteArray());
      }

      @Override
      public void close() {}
    };
  }

  private synchronized void add(Digest digest, byte[] blob) {
    if (blobs.get(digest) != null) {
      return;
    }
    blobs.put(digest, blob);
    sizeBytes += blob.length;
    Iterator<Map.Entry<Digest, byte[]>> eldest = blobs.entrySet().iterator();
    while (sizeBytes > capacityBytes) {
      byte[] victim = eldest.next().getValue();
      eldest.remove();
      sizeBytes -= victim.length;
      evictions++;
      evictedBytes += victim.length;
    }
  }

  @Override
  public synchronized StoreStats stats() {
    return new StoreStats(blobs.size(), sizeBytes, capacityBytes, evictions, evictedBytes);
  }

  @Override
  public void close() {
    closed = true;
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("closed");
    }
  }
}
