package build.hearth.core.storage;

import build.hearth.api.Digest;
import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import build.hearth.spi.storage.ActionCacheStore;
import build.hearth.spi.storage.StoreStats;
import java.util.Optional;

/**
 * An action-cache store on the heap, bounded by the total size of its entries and evicting the
 * least recently used first; a new entry is always admitted. Entries are copied in and out, outside
 * the store's lock, so a caller that reuses its array cannot change what the store holds.
 */
final class MemoryActionCacheStore implements ActionCacheStore {
  private final String name;
  private final ByteBoundedCache entries;
  private volatile boolean closed;

  MemoryActionCacheStore(String name, long capacityBytes, long entryOverheadBytes) {
    this.name = name;
    this.entries = new ByteBoundedCache(capacityBytes, entryOverheadBytes);
  }

  @Override
  public Optional<byte[]> get(Digest actionDigest) {
    checkOpen();
    byte[] entry = entries.get(actionDigest);
    return entry == null ? Optional.empty() : Optional.of(entry.clone());
  }

  @Override
  public void put(Digest actionDigest, byte[] entry) {
    checkOpen();
    if (entry.length > entries.capacityBytes()) {
      throw HearthException.resourceExhausted(
          "action-cache entry for %s is %d bytes, more than action-cache store '%s' can hold"
              + " (maxSize is %d bytes); raise its maxSize",
          actionDigest, entry.length, name, entries.capacityBytes());
    }
    entries.put(actionDigest, entry.clone());
  }

  @Override
  public void remove(Digest actionDigest) {
    checkOpen();
    entries.remove(actionDigest);
  }

  @Override
  public StoreStats stats() {
    return entries.stats();
  }

  @Override
  public void close() {
    closed = true;
    entries.clear();
  }

  @Override
  public String toString() {
    return "MemoryActionCacheStore{" + name + "}";
  }

  private void checkOpen() {
    if (closed) {
      throw new HearthException(
          StatusCode.UNAVAILABLE, "action-cache store '" + name + "' is closed");
    }
  }
}
