package build.hearth.core;

import build.hearth.api.ActionCache;
import build.hearth.api.ContentAddressableStorage;
import build.hearth.core.cas.CasFactory;
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
    return CasFactory.cas(store);
  }

  /**
   * {@return an action cache over {@code store} whose results are checked against {@code cas}}
   *
   * @param store the action-cache store that holds the results
   * @param cas the CAS the results' outputs are checked against
   */
  public static ActionCache actionCache(ActionCacheStore store, ContentAddressableStorage cas) {
    return CasFactory.actionCache(store, cas);
  }
}
