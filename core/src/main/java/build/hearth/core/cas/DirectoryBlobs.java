package build.hearth.core.cas;

import build.hearth.api.Digest;
import build.hearth.api.HearthException;
import build.hearth.core.internal.Sizes;

/**
 * The size bounds on the blobs the server reads whole into memory to follow a directory tree:
 * {@code Directory} messages (GetTree, the action cache's check of an output directory given by its
 * root, a worker's input-tree fetch) and {@code Tree} messages (the action cache's check of an
 * output directory), checked from the digest before a byte is read.
 *
 * <p>A {@code Directory} entry costs at least about 80 bytes (a name, a 64-character hash, a size),
 * so 16 MiB is over 200,000 entries in one directory, far beyond any real build's directory, and it
 * is the size of the largest message a worker accepts on its stream; protobuf's own default limit
 * (64 MiB) would let four times as much reach the heap per read. A {@code Tree} is parsed one
 * {@code Directory} at a time and never held whole, so its bound limits the work of one check
 * rather than memory: 1 GiB, several million entries.
 */
public final class DirectoryBlobs {
  /** The largest {@code Directory} blob read: 16 MiB. */
  public static final long MAX_DIRECTORY_BYTES = 16L << 20;

  /** The largest {@code Tree} blob parsed: 1 GiB. */
  public static final long MAX_TREE_BYTES = 1L << 30;

  private DirectoryBlobs() {}

  /**
   * Refuses a {@code Directory} blob too large to read whole.
   *
   * @param digest the blob's digest
   * @param what where it was met, for the message, e.g. {@code "input tree: dir/sub"}
   * @throws HearthException INVALID_ARGUMENT naming the digest, its size and the bound
   */
  public static void checkDirectory(Digest digest, String what) {
    check(digest, what, "Directory", MAX_DIRECTORY_BYTES);
  }

  /**
   * Refuses a {@code Tree} blob too large to check.
   *
   * @param digest the blob's digest
   * @param what where it was met, for the message
   * @throws HearthException INVALID_ARGUMENT naming the digest, its size and the bound
   */
  public static void checkTree(Digest digest, String what) {
    check(digest, what, "Tree", MAX_TREE_BYTES);
  }

  private static void check(Digest digest, String what, String type, long max) {
    if (digest.sizeBytes() > max) {
      throw HearthException.invalidArgument(
          "%s: %s blob %s is %d bytes, over the %d bytes (%s) this server reads for one %s",
          what, type, digest, digest.sizeBytes(), max, Sizes.binary(max), type);
    }
  }
}
