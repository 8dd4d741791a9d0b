package build.hearth.grpc;

import build.hearth.api.Digest;
import build.hearth.spi.storage.BlobStore;
import build.hearth.spi.storage.StoreStats;
import java.io.InputStream;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

/** A store whose {@code contains} waits until the test opens it, as a stuck disk would. */
final class GatedBlobStore implements BlobStore {
  final AtomicInteger entered = new AtomicInteger();

  /** The digests whose {@code contains} has been called. */
  final Set<Digest> asked = ConcurrentHashMap.newKeySet();

  private final CountDownLatch gate = new CountDownLatch(1);
  private final BlobStore delegate;

  GatedBlobStore(BlobStore delegate) {
    this.delegate = delegate;
  }

  void open() {
    gate.countDown();
  }

  @Override
  public boolean contains(Digest digest) {
    asked.add(digest);
    entered.incrementAndGet();
    try {
      gate.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return delegate.contains(digest);
  }

  @Override
  public Optional<InputStream> read(Digest digest, long offset) {
    return delegate.read(digest, offset);
  }

  @Override
  public Upload startUpload(Digest digest) {
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
