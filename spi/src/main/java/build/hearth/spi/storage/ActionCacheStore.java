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

  /**
   * Reads an entry. A hit may count as a use for eviction.
   *
   * @param actionDigest the digest of the action; hash and size together are the key
   * @return a copy of the entry for {@code actionDigest} that the caller may change, or empty
   */
  Optional<byte[]> get(Digest actionDigest);

  /**
   * Stores {@code entry} for {@code actionDigest}, replacing any earlier one, and evicts other
   * entries if the store is over its capacity.
   *
   * @param actionDigest the digest of the action
   * @param entry the serialized result, possibly empty; the store keeps its own copy, so the caller
   *     may change the array afterwards
   * @throws build.hearth.api.HearthException UNAVAILABLE or INTERNAL if the store cannot write
   */
  void put(Digest actionDigest, byte[] entry);

  /**
   * Removes the entry if present (for example one that no longer parses). Removing an absent entry
   * does nothing. A removal is not an eviction and is not counted in {@link
   * StoreStats#evictions()}.
   *
   * @param actionDigest the digest of the action
   */
  void remove(Digest actionDigest);

  /**
   * {@return sizes and counters, for metrics and eviction accounting; exact whenever no operation
   * is in flight, where {@code sizeBytes} is the total length of the entries present}
   */
  StoreStats stats();

  /**
   * {@return whether the store can serve now, for the host's readiness check ({@code /readyz}),
   * which answers 503 with the problem while a store is unavailable} The host calls this on every
   * probe, possibly from a transport's thread, so it must be cheap and must not wait long: a store
   * that depends on a remote service answers from what it last saw (its connection's state, a cheap
   * check at most once a second) rather than asking on every call. The problem names what the store
   * depends on and what failed, such as the address of a database and the error.
   *
   * <p>The default reads {@link #stats()} and reports its failure, if any; a store whose statistics
   * cost a query should override it.
   */
  default StoreHealth health() {
    return StoreHealth.fromStats(this::stats);
  }

  /**
   * Releases files, connections and threads. A persistent store keeps its entries for the next
   * open. Afterwards {@code put} throws, so that no entry appears after the close (the conformance
   * suite's {@code putsAfterCloseAreRefused}).
   */
  @Override
  void close();
}
