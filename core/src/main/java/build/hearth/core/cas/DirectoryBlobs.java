package build.hearth.core.cas;

import build.hearth.api.Digest;
import build.hearth.api.HearthException;
import build.hearth.core.config.InstanceConfig;
import build.hearth.core.internal.Sizes;

/**
 * The size bounds on the blobs the server reads whole into memory to follow a directory tree:
 * {@code Directory} messages (GetTree, the action cache's check of an output directory given by its
 * root, a worker's input-tree fetch) and {@code Tree} messages (the action cache's check of an
 * output directory), checked from the digest before a byte is read. Configured per instance ({@code
 * maxDirectorySize}, {@code maxTreeSize}) and, for a standalone worker, in its file.
 *
 * <p>The defaults: a {@code Directory} entry costs at least about 80 bytes (a name, a 64-character
 * hash, a size), so 16 MiB is over 200,000 entries in one directory, far beyond any real build's
 * directory; protobuf's own default limit (64 MiB) would let four times as much reach the heap per
 * read. A {@code Tree} is parsed one {@code Directory} at a time and never held whole, so its bound
 * limits the work of one check rather than memory: 1 GiB, several million entries.
 *
 * @param maxDirectoryBytes the largest {@code Directory} blob read
 * @param maxTreeBytes the largest {@code Tree} blob parsed; at least {@code maxDirectoryBytes},
 *     since a Tree holds its root Directory
 */
public record DirectoryBlobs(long maxDirectoryBytes, long maxTreeBytes) {
  /** The default largest {@code Directory} blob: 16 MiB. */
  public static final long DEFAULT_MAX_DIRECTORY_BYTES = InstanceConfig.DEFAULT_MAX_DIRECTORY_BYTES;

  /** The default largest {@code Tree} blob: 1 GiB. */
  public static final long DEFAULT_MAX_TREE_BYTES = InstanceConfig.DEFAULT_MAX_TREE_BYTES;

  /** The defaults. */
  public static final DirectoryBlobs DEFAULTS =
      new DirectoryBlobs(DEFAULT_MAX_DIRECTORY_BYTES, DEFAULT_MAX_TREE_BYTES);

  /**
   * Checks the bounds.
   *
   * @throws IllegalArgumentException if a bound is below 1 KiB, the Directory bound is over 2 GiB
   *     (the most protobuf parses), or the Tree bound is below the Directory bound
   */
  public DirectoryBlobs {
    if (maxDirectoryBytes < 1024 || maxDirectoryBytes > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(
          "maxDirectorySize must be between 1KiB and 2GiB, not " + maxDirectoryBytes + " bytes");
    }
    if (maxTreeBytes < maxDirectoryBytes) {
      throw new IllegalArgumentException(
          "maxTreeSize ("
              + maxTreeBytes
              + " bytes) must be at least maxDirectorySize ("
              + maxDirectoryBytes
              + " bytes): a Tree holds its root Directory");
    }
  }

  /**
   * {@return bounds where only Directory blobs matter (GetTree, input trees): this Directory bound,
   * and the default Tree bound or the Directory bound if that is larger}
   *
   * @param maxDirectoryBytes the largest Directory blob read
   * @throws IllegalArgumentException if it is below 1 KiB or above 2 GiB
   */
  public static DirectoryBlobs forDirectories(long maxDirectoryBytes) {
    return new DirectoryBlobs(
        maxDirectoryBytes, Math.max(maxDirectoryBytes, DEFAULT_MAX_TREE_BYTES));
  }

  /**
   * Refuses a {@code Directory} blob too large to read whole.
   *
   * @param digest the blob's digest
   * @param what where it was met, for the message, e.g. {@code "input tree: dir/sub"}
   * @throws HearthException INVALID_ARGUMENT naming the digest, its size and the bound
   */
  public void checkDirectory(Digest digest, String what) {
    check(digest, what, "Directory", maxDirectoryBytes, "maxDirectorySize");
  }

  /**
   * Refuses a {@code Tree} blob too large to check.
   *
   * @param digest the blob's digest
   * @param what where it was met, for the message
   * @throws HearthException INVALID_ARGUMENT naming the digest, its size and the bound
   */
  public void checkTree(Digest digest, String what) {
    check(digest, what, "Tree", maxTreeBytes, "maxTreeSize");
  }

  private static void check(Digest digest, String what, String type, long max, String field) {
    if (digest.sizeBytes() > max) {
      throw HearthException.invalidArgument(
          "%s: %s blob %s is %d bytes, over the %d bytes (%s is %s) this server reads for one %s",
          what, type, digest, digest.sizeBytes(), max, field, Sizes.binary(max), type);
    }
  }
}
