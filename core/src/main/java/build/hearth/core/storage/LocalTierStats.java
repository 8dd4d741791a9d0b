package build.hearth.core.storage;

import build.hearth.spi.storage.StoreStats;

/**
 * What a blob store with a local tier in front of a shared one (the {@code tiered} store) reports
 * about its local tier, apart from its own {@link build.hearth.spi.storage.BlobStore#stats()},
 * which are the shared tier's. {@code /metrics} reads it, so an operator sees this server's disk
 * and how often the local tier failed and the shared tier answered instead.
 *
 * <p>Thread-safe; each call reads the current values.
 */
public interface LocalTierStats {

  /** {@return the local tier's statistics: the bytes this server keeps, and its evictions} */
  StoreStats localStats();

  /**
   * {@return how many local writes, fills, lookups and reads failed since the store opened; each
   * was answered by the shared tier}
   */
  long localFailures();
}
