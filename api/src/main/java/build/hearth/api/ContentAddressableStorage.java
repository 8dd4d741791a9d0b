package build.hearth.api;

import build.bazel.remote.execution.v2.Directory;
import com.google.protobuf.ByteString;
import com.google.protobuf.MessageLite;
import java.io.InputStream;
import java.nio.file.Path;
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
 * HearthException}s with the codes listed on each method; any method may also fail with UNAVAILABLE
 * or INTERNAL when the store underneath has I/O trouble.
 *
 * <pre>{@code
 * Digest d = cas.put(ByteString.copyFromUtf8("hello"));
 * try (InputStream in = cas.read(d, 0, 0)) { ... }
 * }</pre>
 */
public interface ContentAddressableStorage {

  /**
   * Finds the blobs a client still has to upload, as {@code FindMissingBlobs} does.
   *
   * @param digests the blobs to look up; duplicates are allowed, and the empty blob is never
   *     missing
   * @return the subset of {@code digests} that this store does not hold, in no particular order;
   *     empty if it holds them all
   */
  Set<Digest> findMissing(Iterable<Digest> digests);

  /**
   * Looks up one blob. The answer can be stale by the time it is used: a present blob may be
   * evicted before it is read.
   *
   * @param digest the blob to look up
   * @return whether the blob is present; always true for {@link Digest#EMPTY}
   */
  boolean contains(Digest digest);

  /**
   * Opens the blob for reading from {@code offset}, returning at most {@code limit} bytes ({@code
   * 0} means no limit). The stream must be closed. It streams, so any size can be read, and it
   * reads to its end even if the blob is evicted meanwhile.
   *
   * @param digest the blob to read
   * @param offset where to start, in bytes from the beginning; 0 to the blob's size
   * @param limit the most bytes to return, or 0 for all the rest
   * @return a stream of the blob's bytes from {@code offset}; the caller closes it
   * @throws HearthException NOT_FOUND if the blob is absent; OUT_OF_RANGE if {@code offset} is
   *     negative or beyond the blob's size, or {@code limit} is negative
   */
  InputStream read(Digest digest, long offset, long limit);

  /**
   * Reads a whole blob into memory; for small blobs only (batch reads). Use {@link #read} for
   * anything large.
   *
   * @param digest the blob to read
   * @return the blob's bytes
   * @throws HearthException NOT_FOUND if the blob is absent; RESOURCE_EXHAUSTED if it is too large
   *     to hold in one array (about 2 GiB); DATA_LOSS if the store holds a damaged copy
   */
  ByteString get(Digest digest);

  /**
   * Stores {@code data} under its own digest and returns that digest. Putting a blob that is
   * already present is harmless.
   *
   * @param data the blob's bytes
   * @return the digest of {@code data}, under which it can now be read
   * @throws HearthException RESOURCE_EXHAUSTED if the store cannot hold the blob
   */
  Digest put(ByteString data);

  /**
   * Stores {@code data} under {@code expected}, verifying it first. Putting a blob that is already
   * present is harmless.
   *
   * @param expected the digest the client claims for the bytes
   * @param data the blob's bytes
   * @throws HearthException INVALID_ARGUMENT if the bytes do not match the digest (nothing is then
   *     stored); RESOURCE_EXHAUSTED if the store cannot hold the blob
   */
  void put(Digest expected, ByteString data);

  /**
   * Stores a protobuf message (an {@code Action}, a {@code Command}, a {@code Directory}) as its
   * serialized bytes and returns their digest, the form every REAPI field that names a message
   * takes.
   *
   * <pre>{@code
   * Digest command = cas.putMessage(Command.newBuilder().addArguments("true").build());
   * }</pre>
   *
   * @param message the message to store
   * @return the digest of its serialized bytes
   * @throws HearthException RESOURCE_EXHAUSTED if the store cannot hold it
   */
  default Digest putMessage(MessageLite message) {
    return put(message.toByteString());
  }

  /**
   * Uploads a local directory as an input tree and returns the digest of its root {@code
   * Directory}, ready for an {@code Action}'s {@code input_root_digest}. Every file, directory and
   * symlink under it becomes an entry, sorted as REAPI requires; files keep their executable bit.
   * Files are hashed and uploaded in pieces, never read into memory whole, and blobs the store
   * already holds are not uploaded again.
   *
   * <pre>{@code
   * Digest inputRoot = cas.putDirectory(Path.of("src/main/java"));
   * }</pre>
   *
   * @param directory the directory whose content becomes the tree's root (its own name does not
   *     appear)
   * @return the digest of the root {@code Directory} message
   * @throws IllegalArgumentException if {@code directory} is not a directory, or holds a symlink
   *     that points outside it (absolute, or climbing out with {@code ..}), or a special file
   *     (socket, device, pipe); the message names the path
   * @throws java.io.UncheckedIOException if a file cannot be read, naming it
   * @throws HearthException INVALID_ARGUMENT if a file changed while it was uploaded, naming it;
   *     RESOURCE_EXHAUSTED if the store cannot hold a file
   */
  default Digest putDirectory(Path directory) {
    return MerkleTrees.putDirectory(this, directory);
  }

  /**
   * Uploads an input tree built in memory and returns the digest of its root {@code Directory}.
   * Keys are relative paths with {@code /} between names ({@code "src/Main.java"}); the directories
   * between are made as needed, in REAPI's order. An empty map gives the empty tree.
   *
   * <pre>{@code
   * Digest inputRoot = cas.putTree(Map.of(
   *     "in.txt", InputFile.of("hello\n"),
   *     "bin/run.sh", InputFile.executable("#!/bin/sh\ncat in.txt\n")));
   * }</pre>
   *
   * @param files each file's relative path and content
   * @return the digest of the root {@code Directory} message
   * @throws IllegalArgumentException if a path is empty, absolute, has an empty, {@code .} or
   *     {@code ..} segment, or is both a file and a directory, naming it
   * @throws HearthException RESOURCE_EXHAUSTED if the store cannot hold a file
   */
  default Digest putTree(Map<String, InputFile> files) {
    return MerkleTrees.putTree(this, files);
  }

  /**
   * Reads a whole small blob named by a REAPI digest message, such as an {@code ActionResult}'s
   * {@code stdout_digest}; as {@link #get(Digest)}.
   *
   * @param digest the blob's digest as a REAPI message
   * @return the blob's bytes
   * @throws HearthException INVALID_ARGUMENT if the message is malformed; otherwise as {@link
   *     #get(Digest)}
   */
  default ByteString get(build.bazel.remote.execution.v2.Digest digest) {
    return get(Digest.fromProto(digest));
  }

  /**
   * Writes many small blobs, each verified on its own. The result has one entry per request entry,
   * in request order; one failing blob does not stop the others. Failures are reported in the
   * result, not thrown.
   *
   * @param blobs the blobs to write, each under the digest its client claims
   * @return one status per blob, in the map's iteration order: OK, INVALID_ARGUMENT for bytes that
   *     do not match, RESOURCE_EXHAUSTED for a blob that cannot fit, or the code of another failure
   */
  List<BlobStatus> putAll(Map<Digest, ByteString> blobs);

  /**
   * Starts a verified streaming upload of the blob {@code digest}. Bytes are appended in order;
   * {@link BlobUpload#commit()} makes the blob visible only if they match the digest. An upload
   * that is closed without commit leaves nothing behind.
   *
   * <pre>{@code
   * try (BlobUpload upload = cas.startUpload(digest)) {
   *   for (ByteString chunk : chunks) {
   *     upload.write(chunk);
   *   }
   *   upload.commit();
   * }
   * }</pre>
   *
   * @param digest the digest the bytes must match
   * @return the upload, which the caller must close
   * @throws HearthException RESOURCE_EXHAUSTED if a blob of that size can never fit in the store
   */
  BlobUpload startUpload(Digest digest);

  /**
   * Reads the directory tree under {@code root} breadth first, one page at a time, as {@code
   * GetTree} does. Each distinct directory appears once; subdirectories that are not in the CAS are
   * left out. A page token needs no state on the server, so paging survives a restart.
   *
   * @param root the digest of the root {@code Directory} message
   * @param pageSize the most directories in a page; 0 lets the store choose
   * @param pageToken empty for the first page, else {@link TreePage#nextPageToken()} of the last
   * @return the next page of directories; the first page starts with the root
   * @throws HearthException NOT_FOUND if the root is absent; INVALID_ARGUMENT for a negative page
   *     size, a bad token or a directory that does not parse
   */
  TreePage getTree(Digest root, int pageSize, String pageToken);

  /**
   * The outcome for one blob of a batch. Immutable.
   *
   * @param digest the blob this is about
   * @param code {@link StatusCode#OK} if the blob was stored, else why it was not
   * @param message what went wrong, for the client; empty when the code is OK
   */
  record BlobStatus(Digest digest, StatusCode code, String message) {
    /** {@return whether the blob was stored} */
    public boolean ok() {
      return code == StatusCode.OK;
    }
  }

  /**
   * One page of {@link #getTree}: directories in breadth-first order. Immutable.
   *
   * @param directories the directories of this page; copied, so later changes to the argument do
   *     not show
   * @param nextPageToken the token for the next page, or empty if this is the last page
   */
  record TreePage(List<Directory> directories, String nextPageToken) {
    /**
     * Copies the list of directories.
     *
     * @param directories the directories of this page
     * @param nextPageToken the token for the next page, or empty if this is the last page
     * @throws NullPointerException if the list or an element is null
     */
    public TreePage {
      directories = List.copyOf(directories);
    }
  }
}
