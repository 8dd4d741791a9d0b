package build.hearth.core.cas;

import build.bazel.remote.execution.v2.Directory;
import build.hearth.api.BlobUpload;
import build.hearth.api.ContentAddressableStorage;
import build.hearth.api.Digest;
import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import build.hearth.spi.storage.BlobStore;
import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The CAS on top of any {@link BlobStore}: verifies every write, answers the empty blob itself,
 * checks offsets and limits, and pages directory trees. Holds no state of its own, so several
 * instance names may share one store through several of these.
 */
final class VerifyingContentAddressableStorage implements ContentAddressableStorage {
  private final BlobStore store;
  private final DirectoryBlobs directories;
  private final TreeReader trees;

  VerifyingContentAddressableStorage(BlobStore store) {
    this(store, DirectoryBlobs.DEFAULTS);
  }

  VerifyingContentAddressableStorage(BlobStore store, DirectoryBlobs directories) {
    this.store = store;
    this.directories = directories;
    this.trees = new TreeReader(this);
  }

  @Override
  public Set<Digest> findMissing(Iterable<Digest> digests) {
    Set<Digest> wanted = new LinkedHashSet<>();
    for (Digest digest : digests) {
      if (!digest.isEmpty()) {
        wanted.add(digest);
      }
    }
    if (wanted.isEmpty()) {
      return Set.of();
    }
    return store.findMissing(wanted);
  }

  @Override
  public boolean contains(Digest digest) {
    return digest.isEmpty() || store.contains(digest);
  }

  @Override
  public InputStream read(Digest digest, long offset, long limit) {
    if (offset < 0 || offset > digest.sizeBytes()) {
      throw HearthException.outOfRange(
          "read offset %d is outside blob %s (size %d)", offset, digest, digest.sizeBytes());
    }
    if (limit < 0) {
      throw HearthException.outOfRange("read limit %d is negative", limit);
    }
    if (digest.isEmpty()) {
      return InputStream.nullInputStream();
    }
    Optional<InputStream> in = store.read(digest, offset);
    if (in.isEmpty()) {
      throw HearthException.notFound("blob %s is not in the CAS", digest);
    }
    return limit == 0 ? in.get() : new LimitedInputStream(in.get(), limit);
  }

  @Override
  public ByteString get(Digest digest) {
    if (digest.sizeBytes() > Integer.MAX_VALUE - 8) {
      throw HearthException.resourceExhausted(
          "blob %s is too large to read in one piece; read it with ByteStream", digest);
    }
    try (InputStream in = read(digest, 0, 0)) {
      // Exactly the promised size, in one array: most blobs read whole are small (Directory
      // messages of a few KiB), and a 64 KiB chunk allocated for each cost more than the read.
      int size = (int) digest.sizeBytes();
      byte[] bytes = new byte[size];
      int read = in.readNBytes(bytes, 0, size);
      if (read != size || in.read() >= 0) {
        long held = read != size ? read : size + 1 + in.skip(Long.MAX_VALUE);
        throw new HearthException(
            StatusCode.DATA_LOSS,
            "blob " + digest + " holds " + held + " bytes in the store; it is damaged");
      }
      return UnsafeByteOperations.unsafeWrap(bytes);
    } catch (IOException e) {
      throw HearthException.internal("reading blob " + digest + " failed: " + e.getMessage(), e);
    }
  }

  @Override
  public Digest put(ByteString data) {
    Digest digest = Digest.of(data);
    put(digest, data);
    return digest;
  }

  @Override
  public void put(Digest expected, ByteString data) {
    if (expected.sizeBytes() != data.size()) {
      throw HearthException.invalidArgument(
          "blob %s: received %d bytes but the digest says %d",
          expected, data.size(), expected.sizeBytes());
    }
    if (expected.isEmpty()) {
      return;
    }
    try (BlobUpload upload = startUpload(expected)) {
      upload.write(data);
      upload.commit();
    }
  }

  @Override
  public List<BlobStatus> putAll(Map<Digest, ByteString> blobs) {
    List<BlobStatus> results = new ArrayList<>(blobs.size());
    for (Map.Entry<Digest, ByteString> blob : blobs.entrySet()) {
      results.add(putOne(blob.getKey(), blob.getValue()));
    }
    return results;
  }

  private BlobStatus putOne(Digest digest, ByteString data) {
    try {
      put(digest, data);
      return new BlobStatus(digest, StatusCode.OK, "");
    } catch (HearthException e) {
      return new BlobStatus(digest, e.code(), e.getMessage());
    } catch (UncheckedIOException e) {
      return new BlobStatus(digest, StatusCode.INTERNAL, e.getMessage());
    }
  }

  @Override
  public BlobUpload startUpload(Digest digest) {
    return new VerifyingUpload(digest, digest.isEmpty() ? null : store.startUpload(digest));
  }

  @Override
  public TreePage getTree(Digest root, int pageSize, String pageToken) {
    return trees.page(root, pageSize, pageToken);
  }

  /**
   * Reads and parses one directory, or returns empty if it is absent.
   *
   * @throws HearthException INVALID_ARGUMENT if it is larger than {@link
   *     DirectoryBlobs#maxDirectoryBytes()} (refused before reading) or not a Directory
   */
  Optional<Directory> directory(Digest digest) {
    directories.checkDirectory(digest, "directory tree");
    ByteString bytes;
    try {
      bytes = get(digest);
    } catch (HearthException e) {
      if (e.code() == StatusCode.NOT_FOUND) {
        return Optional.empty();
      }
      throw e;
    }
    try {
      return Optional.of(Directory.parseFrom(bytes));
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw HearthException.invalidArgument(
          "blob %s is not a Directory message: %s", digest, e.getMessage());
    }
  }
}
