package build.hearth.spi.storage;

import build.hearth.api.Digest;
import java.util.Optional;

/**
 * Where an action cache keeps its entries: opaque bytes (a serialized {@code ActionResult}) keyed
 * by the digest of an action. The core checks entries against the CAS; the store only keeps them.
 *
 * <p>Thread-safe. A {@link #put} replaces an earlier entry for the same key; readers see either the
 * old or the new entry, never a mix. Entries are small (kilobytes), so they pass as arrays. A store
 * sized in bytes evicts to stay within its size.
 *
 * <p>Plugin authors prove an implementation by extending {@code ActionCacheStoreContractTest} from
 * {@code hearth-testing}.
 */
public interface ActionCacheStore extends AutoCloseable {

  /** The entry for {@code actionDigest}, or empty. A hit may count as a use for eviction. */
  Optional<byte[]> get(Digest actionDigest);

  /** Stores {@code entry} for {@code actionDigest}, replacing any earlier one. */
  void put(Digest actionDigest, byte[] entry);

  /** Removes the entry if present (for example one whose blobs are gone). */
  void remove(Digest actionDigest);

  /** Sizes and counters, for metrics and eviction accounting. */
  StoreStats stats();

  /** Releases resources. */
  @Override
  void close();
}
