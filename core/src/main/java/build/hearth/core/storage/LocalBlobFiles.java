package build.hearth.core.storage;

import build.hearth.api.Digest;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A blob store that keeps each blob in a file of its own on the local disk, and tells where. The
 * worker hard-links input files to these files instead of copying them. Internal to Hearth's core:
 * not part of the API or the SPI.
 *
 * <p>The file holds exactly the blob's bytes. A caller may hard-link it, read it, and remove its
 * write permission (so that an action cannot change the cached bytes through a link), but never
 * writes, renames or deletes it. The store may evict the blob at any time: the path can vanish
 * right after it is returned (a link made before that keeps the bytes), so a caller handles {@link
 * java.nio.file.NoSuchFileException} by asking again.
 *
 * <p>Thread-safe.
 */
public interface LocalBlobFiles {

  /**
   * The file holding {@code digest}'s bytes, or empty if the blob is absent (the empty blob has no
   * file). A hit counts as a use for eviction.
   */
  Optional<Path> pathOf(Digest digest);
}
