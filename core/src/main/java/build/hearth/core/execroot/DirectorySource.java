package build.hearth.core.execroot;

import build.hearth.api.ContentAddressableStorage;
import build.hearth.api.Digest;
import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import com.google.protobuf.ByteString;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Where {@link InputTreeValidator} gets the serialized {@code Directory} messages of a tree: a
 * whole level at a time, so that a remote source can answer with one batch.
 */
@FunctionalInterface
interface DirectorySource {

  /** The bytes of the blobs among {@code digests} that exist; an absent digest is missing. */
  Map<Digest, ByteString> fetch(Collection<Digest> digests);

  /**
   * Reads from {@code cache} first and from {@code source} for what the cache lacks, keeping a copy
   * of those in the cache, so the next action over the same tree asks the source nothing.
   */
  static DirectorySource cached(ContentAddressableStorage cache, ContentAddressableStorage source) {
    return digests -> {
      Set<Digest> notCached = cache.findMissing(digests);
      Map<Digest, ByteString> found = new HashMap<>();
      for (Digest digest : digests) {
        Optional<ByteString> bytes = Optional.empty();
        if (!notCached.contains(digest)) {
          bytes = read(cache, digest); // absent if evicted since findMissing
        }
        if (bytes.isEmpty()) {
          bytes = read(source, digest);
          bytes.ifPresent(b -> keep(cache, digest, b));
        }
        if (bytes.isPresent()) {
          found.put(digest, bytes.get());
        }
      }
      return found;
    };
  }

  private static Optional<ByteString> read(ContentAddressableStorage cas, Digest digest) {
    try {
      return Optional.of(cas.get(digest));
    } catch (HearthException e) {
      if (e.code() == StatusCode.NOT_FOUND) {
        return Optional.empty();
      }
      throw e;
    }
  }

  private static void keep(ContentAddressableStorage cache, Digest digest, ByteString bytes) {
    try {
      cache.put(digest, bytes);
    } catch (HearthException e) {
      if (e.code() == StatusCode.INVALID_ARGUMENT) {
        // The source handed out bytes that do not match their digest.
        throw new HearthException(
            StatusCode.DATA_LOSS,
            "directory "
                + digest
                + " read from the CAS does not match its digest: "
                + e.getMessage(),
            e);
      }
      throw e;
    }
  }
}
