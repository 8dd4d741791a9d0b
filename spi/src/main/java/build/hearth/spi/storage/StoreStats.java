package build.hearth.spi.storage;

/**
 * A snapshot of a store's accounting. Immutable; all values are counts or bytes, never negative.
 *
 * <pre>{@code
 * StoreStats stats = store.stats();
 * double full = (double) stats.sizeBytes() / stats.capacityBytes();
 * }</pre>
 *
 * @param entries how many blobs or entries the store holds
 * @param sizeBytes how many bytes of content they take (not counting file-system overhead)
 * @param capacityBytes the most bytes the store keeps before it evicts; {@link Long#MAX_VALUE} if
 *     unbounded
 * @param evictions how many entries it has evicted since it was opened
 * @param evictedBytes how many bytes those evictions freed
 */
public record StoreStats(
    long entries, long sizeBytes, long capacityBytes, long evictions, long evictedBytes) {}
