package build.hearth.spi.storage;

import build.hearth.api.Digest;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Where a content-addressable store keeps its bytes. A plugin implements this with bytes, streams
 * and {@link Digest} alone.
 *
 * <p>Hearth's core verifies every blob (hash and size) before it reaches {@link Upload#commit()},
 * so a store does not hash. What a store must guarantee:
 *
 * <ul>
 *   <li>A blob is readable only after a successful {@code commit()}, and then whole: readers never
 *       see a partial or an aborted upload, even while it is being written.
 *   <li>{@code commit()} refuses (and discards) an upload whose length differs from the digest's
 *       size.
 *   <li>Committing a blob that is already present is harmless (puts are idempotent), also when two
 *       uploads of the same digest race.
 *   <li>Memory stays bounded: uploads and reads stream; a store sized in bytes evicts to stay
 *       within its size and reports it in {@link #stats()}.
 *   <li>Thread-safe, and no lock is held across I/O.
 * </ul>
 *
 * <p>The empty blob need not be stored: the core answers it without asking the store. Failures are
 * {@link build.hearth.api.HearthException}s (RESOURCE_EXHAUSTED when a blob cannot fit, UNAVAILABLE
 * or INTERNAL for I/O trouble); {@code IOException}s are wrapped.
 *
 * <p>Plugin authors prove an implementation by extending {@code BlobStoreContractTest} from {@code
 * hearth-testing}.
 */
public interface BlobStore extends AutoCloseable {

  /**
   * Looks up one blob. A hit may count as a use for eviction.
   *
   * @param digest the blob; hash and size together are its identity
   * @return whether the blob is present and committed
   */
  boolean contains(Digest digest);

  /**
   * Looks up many blobs at once. The default calls {@link #contains} for each; stores with a batch
   * lookup (one query for many keys) override this.
   *
   * @param digests the blobs to look up; may hold duplicates
   * @return the digests among {@code digests} that are absent, as a set the caller may change
   */
  default Set<Digest> findMissing(Collection<Digest> digests) {
    Set<Digest> missing = new HashSet<>();
    for (Digest digest : digests) {
      if (!contains(digest)) {
        missing.add(digest);
      }
    }
    return missing;
  }

  /**
   * Opens the blob positioned at {@code offset} (0 &lt;= offset &lt;= size, checked by the caller),
   * or returns empty if it is absent. The stream returns exactly the blob's bytes from {@code
   * offset} to the end, even if the blob is evicted while it is being read.
   *
   * @param digest the blob to read
   * @param offset where to start, in bytes
   * @return a stream the caller closes, or empty if the blob is absent
   */
  Optional<InputStream> read(Digest digest, long offset);

  /**
   * Starts writing a blob. Bytes arrive in order through {@link Upload#write}; the blob appears
   * only on {@link Upload#commit()}. Two uploads of one digest may run at once; both may commit.
   *
   * @param digest the blob to write; its size is known up front, so a store can refuse or make room
   *     before the bytes arrive
   * @return the upload, which the caller closes
   * @throws build.hearth.api.HearthException RESOURCE_EXHAUSTED if the blob can never fit (it is
   *     larger than the store's capacity)
   */
  Upload startUpload(Digest digest);

  /**
   * {@return sizes and counters, for metrics and eviction accounting; exact whenever no operation
   * is in flight, where {@code sizeBytes} counts committed blobs only}
   */
  StoreStats stats();

  /**
   * {@return whether the store can serve now, for the host's readiness check ({@code /readyz}),
   * which answers 503 with the problem while a store is unavailable} The host calls this on every
   * probe, possibly from a transport's thread, so it must be cheap and must not wait long: a store
   * that depends on a remote service answers from what it last saw (its connection's state, a cheap
   * check at most once a second) rather than asking on every call. The problem names what the store
   * depends on and what failed, such as the address of a database and the error.
   *
   * <p>The default reads {@link #stats()} and reports its failure, if any; a store whose statistics
   * cost a query should override it.
   */
  default StoreHealth health() {
    return StoreHealth.fromStats(this::stats);
  }

  /**
   * Releases files, connections and threads (and, for a store in a directory, the directory's
   * lock). Uploads still open are discarded: afterwards {@code startUpload} throws, and so does the
   * {@code commit()} of an upload started before the close (its writes may throw already), so that
   * no blob appears after the close or, in a persistent store, after the next open. The conformance
   * suite checks this ({@code writesAndCommitsAfterCloseAreRefused}).
   */
  @Override
  void close();

  /** An upload in progress. Used by one thread at a time. */
  interface Upload extends AutoCloseable {
    /**
     * Appends {@code length} bytes of {@code data} from {@code offset}. The store copies or writes
     * them before returning: the caller reuses the array.
     *
     * @param data holds the bytes to append
     * @param offset where they start in {@code data}
     * @param length how many to append
     * @throws build.hearth.api.HearthException UNAVAILABLE or INTERNAL if the store cannot write
     */
    void write(byte[] data, int offset, int length);

    /**
     * Appends the remaining bytes of each buffer, in order. Hearth calls this with the network's
     * receive buffers (often direct, often read-only), so a store that can write them without
     * copying, such as a file channel's gathering write, should override it. The store reads the
     * buffers before returning and keeps none of them; it may move their positions but must not
     * change their contents.
     *
     * <p>The default copies through {@link #write(byte[], int, int)}, at most 64 KiB at a time.
     *
     * @param data the buffers whose remaining bytes to append
     * @throws build.hearth.api.HearthException UNAVAILABLE or INTERNAL if the store cannot write
     */
    default void write(List<ByteBuffer> data) {
      long left = 0;
      for (ByteBuffer buffer : data) {
        left += buffer.remaining();
      }
      byte[] scratch = null;
      for (ByteBuffer buffer : data) {
        left -= buffer.remaining();
        if (buffer.hasArray()) {
          write(buffer.array(), buffer.arrayOffset() + buffer.position(), buffer.remaining());
          buffer.position(buffer.limit());
          continue;
        }
        while (buffer.hasRemaining()) {
          if (scratch == null) {
            scratch = new byte[(int) Math.min(64 * 1024, buffer.remaining() + left)];
          }
          int n = Math.min(scratch.length, buffer.remaining());
          buffer.get(scratch, 0, n);
          write(scratch, 0, n);
        }
      }
    }

    /** {@return how many bytes have been written so far} */
    long written();

    /**
     * Makes the blob visible, atomically.
     *
     * @throws build.hearth.api.HearthException INVALID_ARGUMENT if {@link #written()} differs from
     *     the digest's size; the upload is then discarded
     */
    void commit();

    /** Discards the upload if it was not committed. Idempotent. */
    @Override
    void close();
  }
}
