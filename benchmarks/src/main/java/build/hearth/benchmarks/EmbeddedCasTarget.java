package build.hearth.benchmarks;

import build.hearth.api.BlobUpload;
import build.hearth.api.ContentAddressableStorage;
import build.hearth.api.Digest;
import build.hearth.core.Hearth;
import com.google.protobuf.UnsafeByteOperations;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntSupplier;

/**
 * The same operations as {@link GrpcCasTarget}, called directly on the embedding API with no
 * transport in between: what remains is the cost of verification (hashing) and of the store.
 */
final class EmbeddedCasTarget implements CasTarget {
  private static final int READ_BUFFER = 1024 * 1024;

  private final Hearth hearth;
  private final ContentAddressableStorage cas;
  private final byte[] readBuffer = new byte[READ_BUFFER];

  EmbeddedCasTarget(String storeType, Map<String, ?> storeSettings) {
    this.hearth = Hearth.newBuilder().blobStore(storeType, storeSettings).build();
    this.cas = hearth.cas();
  }

  @Override
  public void write(byte[] data, Digest digest, int chunkSize) {
    try (BlobUpload upload = cas.startUpload(digest)) {
      for (int offset = 0; offset < data.length; offset += chunkSize) {
        upload.write(data, offset, Math.min(chunkSize, data.length - offset));
      }
      upload.commit();
    }
  }

  @Override
  public long read(Digest digest) {
    long received = 0;
    try (InputStream in = cas.read(digest, 0, 0)) {
      for (int n; (n = in.read(readBuffer)) >= 0; ) {
        received += n;
      }
    } catch (IOException e) {
      throw new UncheckedIOException("reading " + digest + " failed", e);
    }
    return received;
  }

  @Override
  public void putSmall(Map<Digest, byte[]> blobs) {
    Map<Digest, com.google.protobuf.ByteString> wrapped = new LinkedHashMap<>();
    blobs.forEach((digest, bytes) -> wrapped.put(digest, UnsafeByteOperations.unsafeWrap(bytes)));
    for (ContentAddressableStorage.BlobStatus status : cas.putAll(wrapped)) {
      if (!status.ok()) {
        throw new IllegalStateException(
            "putAll refused " + status.digest() + ": " + status.message());
      }
    }
  }

  @Override
  public IntSupplier findMissingCall(List<Digest> digests) {
    List<Digest> copy = List.copyOf(digests);
    return () -> cas.findMissing(copy).size();
  }

  @Override
  public String description() {
    return "embedded (embedding API, no transport)";
  }

  @Override
  public void close() {
    hearth.close();
  }
}
