package build.hearth.core.cas;

import build.hearth.api.ActionCache;
import build.hearth.api.ContentAddressableStorage;
import build.hearth.spi.storage.ActionCacheStore;
import build.hearth.spi.storage.BlobStore;
import java.util.Objects;

/**
 * The one public door into this package, for {@link build.hearth.core.Storage}, the server and the
 * exec roots' verifying view of the local cache. Not part of Hearth's API: the module does not
 * export this package.
 */
public final class CasFactory {
  private CasFactory() {}

  /**
   * {@return the verifying CAS over {@code store}, reading Directory blobs of at most {@code
   * directories.maxDirectoryBytes()}}
   */
  public static ContentAddressableStorage cas(BlobStore store, DirectoryBlobs directories) {
    return new VerifyingContentAddressableStorage(
        Objects.requireNonNull(store, "store"), Objects.requireNonNull(directories, "directories"));
  }

  /** {@return the validating action cache over {@code store}, checking outputs in {@code cas}} */
  public static ActionCache actionCache(
      ActionCacheStore store, ContentAddressableStorage cas, DirectoryBlobs directories) {
    return new ValidatingActionCache(
        Objects.requireNonNull(store, "store"),
        Objects.requireNonNull(cas, "cas"),
        Objects.requireNonNull(directories, "directories"));
  }
}
