package build.hearth.api;

import com.google.protobuf.ByteString;

/**
 * A streaming, verified write of one blob. Bytes are hashed as they arrive; nothing is visible to
 * readers until {@link #commit()} has checked the whole blob against its digest.
 *
 * <p>An upload may be suspended and resumed: {@link #committedSize()} tells how many bytes it
 * holds, and the writer continues from there (ByteStream resumable writes). {@link #close()}
 * without a successful commit discards everything written.
 *
 * <p>Not thread-safe: one writer at a time. Writing to an upload that was committed or discarded
 * throws {@link IllegalStateException}, a programming error.
 *
 * <pre>{@code
 * try (BlobUpload upload = cas.startUpload(digest)) {
 *   upload.write(firstChunk);
 *   upload.write(secondChunk);
 *   upload.commit(); // INVALID_ARGUMENT if the bytes are not the blob of digest
 * }
 * }</pre>
 */
public interface BlobUpload extends AutoCloseable {

  /** {@return the digest this upload must match} */
  Digest digest();

  /** {@return how many bytes have been written so far; a resumed write continues there} */
  long committedSize();

  /**
   * {@return whether the blob is now present, by this upload's commit or because it already
   * existed}
   */
  boolean isComplete();

  /**
   * Appends {@code length} bytes of {@code data} from {@code offset}. The array is not kept, so the
   * caller may reuse it once this returns.
   *
   * @param data holds the bytes to append
   * @param offset where they start in {@code data}
   * @param length how many to append
   * @throws HearthException INVALID_ARGUMENT if this would exceed the digest's size
   */
  void write(byte[] data, int offset, int length);

  /**
   * Appends {@code data}.
   *
   * @param data the bytes to append
   * @throws HearthException INVALID_ARGUMENT if this would exceed the digest's size
   */
  void write(ByteString data);

  /**
   * Verifies the bytes and makes the blob visible.
   *
   * @throws HearthException INVALID_ARGUMENT if the size or hash does not match (the upload is then
   *     discarded)
   */
  void commit();

  /** Discards the upload unless it was committed. Idempotent. */
  @Override
  void close();
}
