package build.hearth.core.cas;

import build.hearth.api.BlobUpload;
import build.hearth.api.Digest;
import build.hearth.api.HearthException;
import build.hearth.spi.storage.BlobStore;
import com.google.protobuf.ByteOutput;
import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;

/**
 * Hashes bytes on their way into a store's upload, and commits them only when the hash and size
 * match the digest. The store never sees a commit of bad bytes, so it need not hash itself.
 */
final class VerifyingUpload implements BlobUpload {
  /**
   * Bytes hashed and then handed to the store together: small enough to stay in the CPU's cache
   * between the two, large enough that the store writes them with few system calls.
   */
  private static final int BATCH_BYTES = 256 * 1024;

  private final Digest digest;
  private final BlobStore.Upload upload;
  private final MessageDigest sha = Digest.newMessageDigest();
  private final List<ByteBuffer> batch = new ArrayList<>();
  private int batchBytes;
  private long written;
  private boolean committed;
  private boolean closed;

  /** {@code upload} is null for the empty blob, which is never stored. */
  VerifyingUpload(Digest digest, BlobStore.Upload upload) {
    this.digest = digest;
    this.upload = upload;
  }

  @Override
  public Digest digest() {
    return digest;
  }

  @Override
  public long committedSize() {
    return written;
  }

  @Override
  public boolean isComplete() {
    return committed;
  }

  @Override
  public void write(byte[] data, int offset, int length) {
    Objects.checkFromIndexSize(offset, length, data.length);
    checkWritable(length);
    add(ByteBuffer.wrap(data, offset, length));
    hashAndStore();
  }

  @Override
  public void write(ByteString data) {
    checkWritable(data.size());
    try {
      // Walks the ByteString's own arrays and buffers (for a Write, the transport's receive
      // buffers) instead of copying them out: the bytes are only hashed and handed to the store,
      // never kept or changed, which is what makes this safe.
      UnsafeByteOperations.unsafeWriteTo(data, pieces);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    hashAndStore();
  }

  /** Adds each piece of a ByteString to the batch as {@link #write(ByteString)} walks it. */
  private final ByteOutput pieces =
      new ByteOutput() {
        @Override
        public void write(byte value) {
          add(ByteBuffer.wrap(new byte[] {value}));
        }

        @Override
        public void write(byte[] value, int offset, int length) {
          add(ByteBuffer.wrap(value, offset, length));
        }

        @Override
        public void writeLazy(byte[] value, int offset, int length) {
          write(value, offset, length);
        }

        @Override
        public void write(ByteBuffer value) {
          add(value);
        }

        @Override
        public void writeLazy(ByteBuffer value) {
          add(value);
        }
      };

  private void add(ByteBuffer piece) {
    while (piece.hasRemaining()) {
      int n = Math.min(BATCH_BYTES - batchBytes, piece.remaining());
      batch.add(piece.slice(piece.position(), n));
      piece.position(piece.position() + n);
      batchBytes += n;
      if (batchBytes == BATCH_BYTES) {
        hashAndStore();
      }
    }
  }

  private void hashAndStore() {
    if (batch.isEmpty()) {
      return;
    }
    try {
      for (ByteBuffer piece : batch) {
        sha.update(piece.duplicate());
      }
      if (upload != null) {
        upload.write(batch);
      }
      written += batchBytes;
    } finally {
      batch.clear();
      batchBytes = 0;
    }
  }

  private void checkWritable(int length) {
    if (committed || closed) {
      throw new IllegalStateException("upload of " + digest + " is already finished");
    }
    if (written + length > digest.sizeBytes()) {
      long received = written + length;
      close();
      throw HearthException.invalidArgument(
          "blob %s: received at least %d bytes but the digest says %d; the upload was discarded",
          digest, received, digest.sizeBytes());
    }
  }

  @Override
  public void commit() {
    if (committed) {
      return;
    }
    if (closed) {
      throw new IllegalStateException("upload of " + digest + " was discarded");
    }
    if (written != digest.sizeBytes()) {
      close();
      throw HearthException.invalidArgument(
          "blob %s: received %d bytes but the digest says %d; the upload was discarded",
          digest, written, digest.sizeBytes());
    }
    String actual = HexFormat.of().formatHex(sha.digest());
    if (!actual.equals(digest.hash())) {
      close();
      throw HearthException.invalidArgument(
          "blob %s: the bytes hash to %s, not to the digest's hash; the upload was discarded",
          digest, actual);
    }
    if (upload != null) {
      upload.commit();
    }
    committed = true;
    closed = true;
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (upload != null) {
      upload.close();
    }
  }
}
