package build.hearth.api;

import build.bazel.remote.execution.v2.Directory;
import com.google.protobuf.ByteString;
import java.io.InputStream;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Hearth's content-addressable store: blobs named by their {@link Digest}.
 *
 * <p>Every write is verified while it streams: a blob is visible only once its bytes hash to its
 * digest and have its size, and a blob that does not match is refused with {@link
 * StatusCode#INVALID_ARGUMENT} and never stored. The empty blob is always present.
 *
 * <p>Implementations are thread-safe. Arguments are never null. Failures are {@link
 * HearthException}s with the codes listed on each method.
 *
 * <pre>{@code
 * Digest d = cas.put(ByteString.copyFromUtf8("hello"));
 * try (InputStream in = cas.read(d, 0, 0)) { ... }
 * }</pre>
 */
public interface ContentAddressableStorage {

  /** The subset of {@code digests} that this store does not hold, in no particular order. */
  Set<Digest> findMissing(Iterable<Digest> digests);

  /** Whether the blob is present. */
  boolean contains(Digest digest);

  /**
   * Opens the blob for reading from {@code offset}, returning at most {@code limit} bytes ({@code
   * 0} means no limit). The stream must be closed.
   *
   * @throws HearthException NOT_FOUND if the blob is absent; OUT_OF_RANGE if {@code offset} is
   *     negative or beyond the blob's size, or {@code limit} is negative
   */
  InputStream read(Digest digest, long offset, long limit);

  /**
   * Reads a whole blob into memory; for small blobs only (batch reads).
   *
   * @throws HearthException NOT_FOUND if the blob is absent; RESOURCE_EXHAUSTED if it is too large
   *     to hold in one array
   */
  ByteString get(Digest digest);

  /**
   * Stores {@code data} under its own digest and returns that digest.
   *
   * @throws HearthException RESOURCE_EXHAUSTED if the store cannot hold the blob
   */
  Digest put(ByteString data);

  /**
   * Stores {@code data} under {@code expected}, verifying it first.
   *
   * @throws HearthException INVALID_ARGUMENT if the bytes do not match the digest
   */
  void put(Digest expected, ByteString data);

  /**
   * Writes many small blobs, each verified on its own. The result has one entry per request entry,
   * in request order; one failing blob does not stop the others.
   */
  List<BlobStatus> putAll(Map<Digest, ByteString> blobs);

  /**
   * Starts a verified streaming upload of the blob {@code digest}. Bytes are appended in order;
   * {@link BlobUpload#commit()} makes the blob visible only if they match the digest. An upload
   * that is closed without commit leaves nothing behind.
   */
  BlobUpload startUpload(Digest digest);

  /**
   * Reads the directory tree under {@code root} breadth first, one page at a time, as {@code
   * GetTree} does.
   *
   * @param pageSize the most directories in a page; 0 lets the store choose
   * @param pageToken empty for the first page, else {@link TreePage#nextPageToken()} of the last
   * @throws HearthException NOT_FOUND if the root is absent; INVALID_ARGUMENT for a bad token or a
   *     directory that does not parse
   */
  TreePage getTree(Digest root, int pageSize, String pageToken);

  /** The outcome for one blob of a batch. */
  record BlobStatus(Digest digest, StatusCode code, String message) {
    public boolean ok() {
      return code == StatusCode.OK;
    }
  }

  /** One page of {@link #getTree}: directories in breadth-first order. */
  record TreePage(List<Directory> directories, String nextPageToken) {
    public TreePage {
      directories = List.copyOf(directories);
    }
  }
}
