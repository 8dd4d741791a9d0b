package build.hearth.core.storage;

import build.hearth.api.Digest;
import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import build.hearth.spi.storage.BlobStore;
import build.hearth.spi.storage.LocalBlobFiles;
import build.hearth.spi.storage.StoreHealth;
import build.hearth.spi.storage.StoreStats;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * A local blob store in front of a shared one. The shared tier is where blobs live: a write is
 * acknowledged only once the shared tier has committed it, and a blob the shared tier has is in the
 * store. The local tier is a cache of it on this server: written on the way through, filled by
 * reads that miss it (streamed, see {@link ReadThrough}), asked first by every lookup, and evicting
 * by its own size without touching the shared tier. A blob the shared tier evicted while the local
 * tier still holds it keeps being served from the local copy.
 *
 * <p>The local tier is best effort: a local write or fill that fails (disk full, a blob larger than
 * the local tier) leaves the blob in the shared tier only, and a local lookup or read that fails is
 * answered by the shared tier; either is counted ({@link #localFailures()}) and logged at most once
 * a minute (see {@link LocalFailures}), and never fails the caller.
 *
 * <p>{@link #stats()} are the shared tier's, since it decides what the store holds and evicts; the
 * local tier is reported on its own ({@link LocalTierStats}).
 *
 * <p>Owns both tiers and closes them. Thread-safe as its tiers are; holds no lock.
 */
class TieredBlobStore implements BlobStore, LocalTierStats {
  private final String name;
  private final BlobStore local;
  private final BlobStore shared;
  private final LocalFailures failures;
  private volatile boolean closed;

  TieredBlobStore(String name, BlobStore local, BlobStore shared, LocalFailures failures) {
    this.name = name;
    this.local = local;
    this.shared = shared;
    this.failures = failures;
  }

  /**
   * A tiered store over {@code local} and {@code shared}; one that also serves {@link
   * LocalBlobFiles} when the local tier does, so that a worker on this machine hard-links inputs
   * from the local tier.
   */
  static TieredBlobStore of(
      String name, BlobStore local, BlobStore shared, LocalFailures failures) {
    if (local instanceof LocalBlobFiles files) {
      return new WithFiles(name, local, shared, failures, files);
    }
    return new TieredBlobStore(name, local, shared, failures);
  }

  @Override
  public boolean contains(Digest digest) {
    checkOpen();
    boolean here;
    try {
      here = local.contains(digest);
    } catch (RuntimeException e) {
      localFailed(digest, e);
      here = false;
    }
    return here || shared.contains(digest);
  }

  /**
   * Asks the shared tier, in one call, only about what the local tier lacks (about everything, when
   * the local tier fails).
   */
  @Override
  public Set<Digest> findMissing(Collection<Digest> digests) {
    checkOpen();
    Collection<Digest> missingLocally;
    try {
      missingLocally = local.findMissing(digests);
    } catch (RuntimeException e) {
      localFailed(digests.isEmpty() ? Digest.EMPTY : digests.iterator().next(), e);
      missingLocally = digests;
    }
    if (missingLocally.isEmpty()) {
      return new HashSet<>();
    }
    return shared.findMissing(missingLocally);
  }

  /**
   * Reads the local copy, or else the shared one. A read of a whole blob that misses locally fills
   * the local tier as the reader goes; a read from an offset (a resumed download) is served from
   * the shared tier without filling, since the local tier takes only whole blobs and reading the
   * skipped bytes from the shared tier only to store them would cost the transfer the offset saves.
   */
  @Override
  public Optional<InputStream> read(Digest digest, long offset) {
    checkOpen();
    Optional<InputStream> hit;
    try {
      hit = local.read(digest, offset);
    } catch (RuntimeException e) {
      // A local tier that cannot read (a damaged disk) costs a trip to the shared tier, not the
      // read.
      localFailed(digest, e);
      hit = Optional.empty();
    }
    if (hit.isPresent()) {
      return hit;
    }
    Optional<InputStream> remote = shared.read(digest, offset);
    if (remote.isEmpty() || offset > 0) {
      return remote;
    }
    return Optional.of(
        new ReadThrough(digest, remote.get(), startLocal(digest), this::localFailed));
  }

  @Override
  public Upload startUpload(Digest digest) {
    checkOpen();
    Upload toShared = shared.startUpload(digest);
    return new WriteThrough(digest, toShared, startLocal(digest));
  }

  /** {@return the shared tier's statistics: it decides which blobs the store holds} */
  @Override
  public StoreStats stats() {
    return shared.stats();
  }

  /** {@return the shared tier's health when it is unavailable, else the local tier's} */
  @Override
  public StoreHealth health() {
    StoreHealth sharedHealth = shared.health();
    return sharedHealth.isHealthy() ? local.health() : sharedHealth;
  }

  @Override
  public StoreStats localStats() {
    return local.stats();
  }

  @Override
  public long localFailures() {
    return failures.count();
  }

  @Override
  public void close() {
    closed = true;
    try {
      shared.close();
    } finally {
      local.close();
    }
  }

  @Override
  public String toString() {
    return "TieredBlobStore{" + name + ": " + local + " in front of " + shared + "}";
  }

  /** Starts the local copy of a blob; null when the local tier refuses it. */
  private Upload startLocal(Digest digest) {
    try {
      return local.startUpload(digest);
    } catch (RuntimeException e) {
      localFailed(digest, e);
      return null;
    }
  }

  private void localFailed(Digest digest, RuntimeException e) {
    failures.record(name, digest, e);
  }

  private void checkOpen() {
    if (closed) {
      throw new HearthException(StatusCode.UNAVAILABLE, "blob store '" + name + "' is closed");
    }
  }

  /**
   * Writes each chunk to both tiers. The shared tier's failures are the upload's; the local tier's
   * only drop the local copy.
   */
  private final class WriteThrough implements Upload {
    private final Digest digest;
    private final Upload toShared;
    private Upload toLocal;

    WriteThrough(Digest digest, Upload toShared, Upload toLocal) {
      this.digest = digest;
      this.toShared = toShared;
      this.toLocal = toLocal;
    }

    @Override
    public void write(byte[] data, int offset, int length) {
      try {
        toShared.write(data, offset, length);
      } catch (RuntimeException e) {
        dropLocal();
        throw e;
      }
      if (toLocal != null) {
        try {
          toLocal.write(data, offset, length);
        } catch (RuntimeException e) {
          localWriteFailed(e);
        }
      }
    }

    /**
     * Hands each tier views of its own, since a store may move the buffers' positions; the contents
     * are shared and never copied here.
     */
    @Override
    public void write(List<ByteBuffer> data) {
      List<ByteBuffer> forLocal = null;
      if (toLocal != null) {
        forLocal = new ArrayList<>(data.size());
        for (ByteBuffer buffer : data) {
          forLocal.add(buffer.duplicate());
        }
      }
      try {
        toShared.write(data);
      } catch (RuntimeException e) {
        dropLocal();
        throw e;
      }
      if (toLocal != null) {
        try {
          toLocal.write(forLocal);
        } catch (RuntimeException e) {
          localWriteFailed(e);
        }
      }
    }

    @Override
    public long written() {
      return toShared.written();
    }

    /**
     * Commits the shared copy, then the local one: a blob the shared tier refused is not kept
     * locally either, so this server never serves what the write's caller was told failed.
     */
    @Override
    public void commit() {
      try {
        toShared.commit();
      } catch (RuntimeException e) {
        dropLocal();
        throw e;
      }
      if (toLocal != null) {
        try {
          toLocal.commit();
        } catch (RuntimeException e) {
          localWriteFailed(e);
        }
        toLocal = null;
      }
    }

    @Override
    public void close() {
      try {
        toShared.close();
      } finally {
        dropLocal();
      }
    }

    private void localWriteFailed(RuntimeException e) {
      dropLocal();
      localFailed(digest, e);
    }

    private void dropLocal() {
      if (toLocal != null) {
        Upload dropped = toLocal;
        toLocal = null;
        dropped.close();
      }
    }
  }

  /** A tiered store whose local tier keeps each blob in a file, and says where. */
  private static final class WithFiles extends TieredBlobStore implements LocalBlobFiles {
    private final LocalBlobFiles localFiles;

    WithFiles(
        String name,
        BlobStore local,
        BlobStore shared,
        LocalFailures failures,
        LocalBlobFiles localFiles) {
      super(name, local, shared, failures);
      this.localFiles = localFiles;
    }

    /**
     * The local tier's file; a blob only the shared tier has is read through into the local tier
     * first (streamed, never held in memory), so a worker here can link it.
     */
    @Override
    public Optional<Path> pathOf(Digest digest) {
      Optional<Path> file = localFiles.pathOf(digest);
      if (file.isPresent()) {
        return file;
      }
      Optional<InputStream> in = read(digest, 0);
      if (in.isEmpty()) {
        return Optional.empty();
      }
      try (InputStream stream = in.get()) {
        stream.transferTo(OutputStream.nullOutputStream());
      } catch (IOException e) {
        throw new HearthException(
            StatusCode.UNAVAILABLE,
            "cannot read blob " + digest + " from the shared tier: " + e.getMessage(),
            e);
      }
      return localFiles.pathOf(digest);
    }
  }
}
