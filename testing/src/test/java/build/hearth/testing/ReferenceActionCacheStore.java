package build.hearth.testing;

import build.hearth.api.Digest;
import build.hearth.spi.storage.ActionCacheStore;
import build.hearth.spi.storage.StoreStats;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * About the simplest action-cache store that passes the contract; see {@link ReferenceBlobStore}.
 */
class ReferenceActionCacheStore implements ActionCacheStore {
  private final long capacityBytes;
  private final LinkedHashMap<Digest, byte[]> entries = new LinkedHashMap<>(16, 0.75f, true);
  private long sizeBytes;
  private long evictions;
  private long evictedBytes;
  private boolean closed;

  ReferenceActionCacheStore(long capacityBytes) {
    this.capacityBytes = capacityBytes;
  }

  @Override
  public synchronized Optional<byte[]> get(Digest actionDigest) {
    byte[] entry = entries.get(actionDigest);
    return entry == null ? Optional.empty() : Optional.of(entry.clone());
  }

  @Override
  public synchronized void put(Digest actionDigest, byte[] entry) {
    if (closed) {
      throw new IllegalStateException("closed");
    }
    remove(actionDigest);
    entries.put(actionDigest, entry.clone());
    sizeBytes += entry.length;
    Iterator<Map.Entry<Digest, byte[]>> eldest = entries.entrySet().iterator();
    while (sizeBytes > capacityBytes) {
      byte[] victim = eldest.next().getValue();
      eldest.remove();
      sizeBytes -= victim.length;
      evictions++;
      evictedBytes += victim.length;
    }
  }

  @Override
  public synchronized void remove(Digest actionDigest) {
    byte[] previous = entries.remove(actionDigest);
    if (previous != null) {
      sizeBytes -= previous.length;
    }
  }

  @Override
  public synchronized StoreStats stats() {
    return new StoreStats(entries.size(), sizeBytes, capacityBytes, evictions, evictedBytes);
  }

  @Override
  public synchronized void close() {
    closed = true;
  }
}
