package build.hearth.core.storage;

import build.hearth.api.Digest;
import build.hearth.spi.storage.BlobStore;
import build.hearth.spi.storage.StoreStats;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real store behind a decorator that records the calls it forwards, for tests that count what a
 * tiered store asks of a tier; subclasses override a method to inject a fault.
 */
class ForwardingBlobStore implements BlobStore {
  final BlobStore delegate;
  final AtomicInteger containsCalls = new AtomicInteger();
  final AtomicInteger reads = new AtomicInteger();
  final AtomicInteger uploads = new AtomicInteger();
  final List<List<Digest>> findMissingCalls = new CopyOnWriteArrayList<>();

  ForwardingBlobStore(BlobStore delegate) {
    this.delegate = delegate;
  }

  @Override
  public boolean contains(Digest digest) {
    containsCalls.incrementAndGet();
    return delegate.contains(digest);
  }

  @Override
  public Set<Digest> findMissing(Collection<Digest> digests) {
    findMissingCalls.add(new ArrayList<>(digests));
    return delegate.findMissing(digests);
  }

  @Override
  public Optional<InputStream> read(Digest digest, long offset) {
    reads.incrementAndGet();
    return delegate.read(digest, offset);
  }

  @Override
  public Upload startUpload(Digest digest) {
    uploads.incrementAndGet();
    return delegate.startUpload(digest);
  }

  @Override
  public StoreStats stats() {
    return delegate.stats();
  }

  @Override
  public void close() {
    delegate.close();
  }
}
