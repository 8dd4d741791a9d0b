/**
 * The storage providers built into Hearth: {@code memory} (on the heap, strict LRU by bytes) and
 * {@code filesystem} (one file per blob or action-cache entry, strict LRU, kept across restarts),
 * for both blob stores and action-cache stores, and {@code tiered} (blob stores only: a local store
 * in front of a shared one, each a store nested in its settings). Only the providers are public
 * (and {@code StoreVerifier}, for {@code hearth admin verify-store}), found by {@link
 * java.util.ServiceLoader} and chosen by {@code type} in the configuration; the stores themselves
 * are package-private and reached through the {@link build.hearth.spi.storage} interfaces.
 */
package build.hearth.core.storage;
