package build.hearth.core.cas;

import build.hearth.api.ActionCache;
import build.hearth.api.ContentAddressableStorage;
import build.hearth.spi.storage.ActionCacheStore;
import build.hearth.spi.storage.BlobStore;
import java.util.Objects;

/**
 * The one public door into this package, for {@link build.hearth.core.Storage} and for the exec
 * roots' verifying view of the local cache. Not part of Hearth's API: the module does not export
 * this package.
 */
public final class CasFactory {
  private CasFactory() {}

  public static ContentAddressableStorage cas(BlobStore store) {
    return new VerifyingContentAddressableStorage(Objects.requireNonNull(store, "store"));
  }

  public static ActionCache actionCache(ActionCacheStore store, ContentAddressableStorage cas) {
    return new ValidatingActionCache(
        Objects.requireNonNull(store, "store"), Objects.requireNonNull(cas, "cas"));
  }
}
