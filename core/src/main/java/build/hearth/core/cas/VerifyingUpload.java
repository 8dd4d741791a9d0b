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
import java.util.HexFormat;

/**
 * Hashes bytes on their way into a store's upload, and commits them only when the hash and size
 * match the digest. The store never sees a commit of bad bytes, so it need not hash itself.
 */
final class VerifyingUpload implements BlobUpload {
  /** Hashed and stored at a time, so a piece stays in the CPU's cache between the two. */
  private static final int CHUNK = 256 * 1024;

  private final Digest digest;
  private final BlobStore.Upload upload;
  private final MessageDigest sha = Digest.newMessageDigest();
  private byte[] scratch;
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
    checkWritable(length);
    sha.update(data, offset, length);
    if (upload != null) {
      upload.write(data, offset, length);
    }
    written += length;
  }

  @Override
  public void write(ByteString data) {
    checkWritable(data.size());
    try {
      // Reads the ByteString's own arrays instead of copying them out first: the bytes are only
      // hashed and handed to the store, never kept or changed, which is what makes this safe.
      UnsafeByteOperations.unsafeWriteTo(data, pieces);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Hashes and stores each piece of a ByteString as {@link #write(ByteString)} walks it. */
  private final ByteOutput pieces =
      new ByteOutput() {
        @Override
        public void write(byte value) {
          write(new byte[] {value}, 0, 1);
        }

        @Override
        public void write(byte[] value, int offset, int length) {
          for (int pos = 0; pos < length; pos += CHUNK) {
            int n = Math.min(CHUNK, length - pos);
            sha.update(value, offset + pos, n);
            upload.write(value, offset + pos, n);
            written += n;
          }
        }

        @Override
        public void writeLazy(byte[] value, int offset, int length) {
          write(value, offset, length);
        }

        @Override
        public void write(ByteBuffer value) {
          if (scratch == null) {
            scratch = new byte[CHUNK];
          }
          while (value.hasRemaining()) {
            int n = Math.min(CHUNK, value.remaining());
            value.get(scratch, 0, n);
            write(scratch, 0, n);
          }
        }

        @Override
        public void writeLazy(ByteBuffer value) {
          write(value);
        }
      };

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
