package build.hearth.spi.storage;

import build.hearth.api.Digest;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A capability a {@link BlobStore} may add: it keeps each blob in a file of its own on the local
 * disk, and says where. When the blob store of an embedded Hearth with local execution (or of a
 * server's built-in worker) implements it, the worker hard-links input files to these files
 * (copying them when the exec directory is on another file system) instead of keeping a second
 * cache of its own. A store without it still works: the worker then fills a cache of its own under
 * its work directory ({@code Hearth.Builder.localExecutionCacheSize}).
 *
 * <pre>{@code
 * final class MyFileStore implements BlobStore, LocalBlobFiles {
 *   public Optional<Path> pathOf(Digest digest) {
 *     Path file = fileOf(digest);
 *     return Files.isRegularFile(file) ? Optional.of(file) : Optional.empty();
 *   }
 *   ...
 * }
 * }</pre>
 *
 * <p>The contract: the file holds exactly the blob's bytes, and the store never writes to it in
 * place (it replaces files by renaming, if at all). A caller may hard-link it, read it, and remove
 * its write permission (so that an action cannot change the stored bytes through a link), but never
 * writes, renames or deletes it. The store may evict the blob at any time: the path can vanish
 * right after it is returned (a link made before that keeps the bytes), so a caller handles {@link
 * java.nio.file.NoSuchFileException} by asking again. The built-in {@code filesystem} store
 * implements it.
 *
 * <p>Implementations are thread-safe. A new method added here will come with a default.
 */
public interface LocalBlobFiles {

  /**
   * Finds the file of a blob.
   *
   * @param digest the blob
   * @return the file holding {@code digest}'s bytes, or empty if the blob is absent (the empty blob
   *     may have no file); a hit counts as a use for eviction
   */
  Optional<Path> pathOf(Digest digest);
}
