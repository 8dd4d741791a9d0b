package build.hearth.core;

import build.hearth.api.ActionCache;
import build.hearth.api.ContentAddressableStorage;
import build.hearth.core.cas.CasFactory;
import build.hearth.core.cas.DirectoryBlobs;
import build.hearth.spi.storage.ActionCacheStore;
import build.hearth.spi.storage.BlobStore;

/**
 * Turns storage plugins into the API's stores: a {@link ContentAddressableStorage} that verifies
 * every write over a {@link BlobStore}, and an {@link ActionCache} that checks results against the
 * CAS over an {@link ActionCacheStore}.
 *
 * <p>The returned objects hold no resources of their own: the caller keeps owning (and closes) the
 * stores, which lets several instance names share one store.
 */
public final class Storage {
  private Storage() {}

  /**
   * {@return a verifying CAS over {@code store}}
   *
   * @param store the blob store that holds the blobs
   */
  public static ContentAddressableStorage cas(BlobStore store) {
    return CasFactory.cas(store, DirectoryBlobs.DEFAULTS);
  }

  /**
   * {@return a verifying CAS over {@code store} that reads Directory blobs (GetTree) of at most
   * {@code maxDirectoryBytes}; {@link #cas(BlobStore)} allows 16 MiB}
   *
   * @param store the blob store that holds the blobs
   * @param maxDirectoryBytes the largest Directory blob read whole, from 1 KiB to 2 GiB
   * @throws IllegalArgumentException if {@code maxDirectoryBytes} is out of range
   */
  public static ContentAddressableStorage cas(BlobStore store, long maxDirectoryBytes) {
    return CasFactory.cas(store, DirectoryBlobs.forDirectories(maxDirectoryBytes));
  }

  /**
   * {@return an action cache over {@code store} whose results are checked against {@code cas}}
   *
   * @param store the action-cache store that holds the results
   * @param cas the CAS the results' outputs are checked against
   */
  public static ActionCache actionCache(ActionCacheStore store, ContentAddressableStorage cas) {
    return CasFactory.actionCache(store, cas, DirectoryBlobs.DEFAULTS);
  }

  /**
   * {@return an action cache over {@code store} whose results are checked against {@code cas},
   * reading Directory blobs of at most {@code maxDirectoryBytes} and parsing Tree blobs of at most
   * {@code maxTreeBytes}; {@link #actionCache(ActionCacheStore, ContentAddressableStorage)} allows
   * 16 MiB and 1 GiB}
   *
   * @param store the action-cache store that holds the results
   * @param cas the CAS the results' outputs are checked against
   * @param maxDirectoryBytes the largest Directory blob read whole, from 1 KiB to 2 GiB
   * @param maxTreeBytes the largest Tree blob parsed, at least {@code maxDirectoryBytes}
   * @throws IllegalArgumentException if a bound is out of range
   */
  public static ActionCache actionCache(
      ActionCacheStore store,
      ContentAddressableStorage cas,
      long maxDirectoryBytes,
      long maxTreeBytes) {
    return CasFactory.actionCache(store, cas, new DirectoryBlobs(maxDirectoryBytes, maxTreeBytes));
  }
}
