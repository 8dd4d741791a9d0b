package build.hearth.core.execroot;

import build.hearth.api.BlobUpload;
import build.hearth.api.ContentAddressableStorage;
import build.hearth.api.Digest;
import com.google.protobuf.ByteString;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Forwards to a real CAS and counts the reads of each blob (streamed or whole); can be told to
 * corrupt the bytes of a blob it streams.
 */
final class CountingCas implements ContentAddressableStorage {
  private final ContentAddressableStorage delegate;
  private final Map<Digest, AtomicInteger> reads = new ConcurrentHashMap<>();
  private final Set<Digest> corrupted = ConcurrentHashMap.newKeySet();

  CountingCas(ContentAddressableStorage delegate) {
    this.delegate = delegate;
  }

  int reads(Digest digest) {
    AtomicInteger count = reads.get(digest);
    return count == null ? 0 : count.get();
  }

  Set<Digest> readDigests() {
    return Set.copyOf(reads.keySet());
  }

  int totalReads() {
    return reads.values().stream().mapToInt(AtomicInteger::get).sum();
  }

  /** From now on, streamed reads of {@code digest} return the right length of wrong bytes. */
  void corrupt(Digest digest) {
    corrupted.add(digest);
  }

  void reset() {
    reads.clear();
  }

  private void count(Digest digest) {
    reads.computeIfAbsent(digest, d -> new AtomicInteger()).incrementAndGet();
  }

  @Override
  public Set<Digest> findMissing(Iterable<Digest> digests) {
    return delegate.findMissing(digests);
  }

  @Override
  public boolean contains(Digest digest) {
    return delegate.contains(digest);
  }

  @Override
  public InputStream read(Digest digest, long offset, long limit) {
    count(digest);
    InputStream in = delegate.read(digest, offset, limit);
    if (!corrupted.contains(digest)) {
      return in;
    }
    try (in) {
      byte[] bytes = in.readAllBytes();
      bytes[0] ^= 1;
      return new ByteArrayInputStream(bytes);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public ByteString get(Digest digest) {
    count(digest);
    return delegate.get(digest);
  }

  @Override
  public Digest put(ByteString data) {
    return delegate.put(data);
  }

  @Override
  public void put(Digest expected, ByteString data) {
    delegate.put(expected, data);
  }

  @Override
  public List<BlobStatus> putAll(Map<Digest, ByteString> blobs) {
    return delegate.putAll(blobs);
  }

  @Override
  public BlobUpload startUpload(Digest digest) {
    return delegate.startUpload(digest);
  }

  @Override
  public TreePage getTree(Digest root, int pageSize, String pageToken) {
    return delegate.getTree(root, pageSize, pageToken);
  }
}
