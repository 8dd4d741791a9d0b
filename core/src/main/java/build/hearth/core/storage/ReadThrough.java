package build.hearth.core.storage;

import build.hearth.api.Digest;
import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import build.hearth.spi.storage.BlobStore.Upload;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Objects;
import java.util.function.BiConsumer;

/**
 * A shared tier's stream that copies what its reader reads into an upload to the local tier, so a
 * blob is fetched once and then served locally. Nothing is buffered beyond the reader's own
 * buffers. The copy is committed when the last byte of the blob has been read, and only if those
 * bytes are the blob (size and SHA-256 checked as they pass, since the core verified them on the
 * way into the shared tier, not on the way out, and a wrong local copy would be served for as long
 * as it lasts); a reader that closes the stream early discards it, so the local tier never holds
 * part of a blob. A failing local write drops the copy and is reported; the reader never notices.
 *
 * <p>Used by one thread at a time, as streams are.
 */
final class ReadThrough extends InputStream {
  private final Digest digest;
  private final InputStream source;
  private final BiConsumer<Digest, RuntimeException> onLocalFailure;
  private final MessageDigest hash;
  private Upload fill;
  private long seen;

  /**
   * @param digest the blob being read, from its start
   * @param source the shared tier's stream, which this closes
   * @param fill the local tier's upload of the blob, or null to only pass the bytes through
   * @param onLocalFailure told when the local copy could not be written or committed
   */
  ReadThrough(
      Digest digest,
      InputStream source,
      Upload fill,
      BiConsumer<Digest, RuntimeException> onLocalFailure) {
    this.digest = digest;
    this.source = source;
    this.fill = fill;
    this.onLocalFailure = onLocalFailure;
    this.hash = Digest.newMessageDigest();
    if (digest.sizeBytes() == 0) {
      finish();
    }
  }

  @Override
  public int read() throws IOException {
    byte[] one = new byte[1];
    int n = read(one, 0, 1);
    return n < 0 ? -1 : one[0] & 0xff;
  }

  @Override
  public int read(byte[] buffer, int offset, int length) throws IOException {
    Objects.checkFromIndexSize(offset, length, buffer.length);
    int n = source.read(buffer, offset, length);
    if (n > 0 && fill != null) {
      copy(buffer, offset, n);
    }
    return n;
  }

  @Override
  public int available() throws IOException {
    return source.available();
  }

  /** Closes the shared stream; a copy the reader did not read to its end is discarded. */
  @Override
  public void close() throws IOException {
    try {
      source.close();
    } finally {
      if (fill != null) {
        Upload unfinished = fill;
        fill = null;
        unfinished.close();
      }
    }
  }

  private void copy(byte[] buffer, int offset, int n) {
    seen += n;
    if (seen > digest.sizeBytes()) {
      // The shared tier returned more than the blob: keep nothing of it.
      drop(
          HearthException.invalidArgument(
              "the shared tier returned more than the %d bytes of blob %s",
              digest.sizeBytes(), digest));
      return;
    }
    hash.update(buffer, offset, n);
    try {
      fill.write(buffer, offset, n);
    } catch (RuntimeException e) {
      drop(e);
      return;
    }
    if (seen == digest.sizeBytes()) {
      // The whole blob has passed: commit now, since many readers stop at the size, not at EOF.
      finish();
    }
  }

  private void finish() {
    String actual = HexFormat.of().formatHex(hash.digest());
    if (!actual.equals(digest.hash())) {
      drop(
          new HearthException(
              StatusCode.DATA_LOSS,
              "the shared tier returned bytes for blob " + digest + " that hash to " + actual));
      return;
    }
    Upload done = fill;
    fill = null;
    try {
      done.commit();
    } catch (RuntimeException e) {
      onLocalFailure.accept(digest, e);
    } finally {
      done.close();
    }
  }

  private void drop(RuntimeException why) {
    Upload dropped = fill;
    fill = null;
    dropped.close();
    onLocalFailure.accept(digest, why);
  }
}
