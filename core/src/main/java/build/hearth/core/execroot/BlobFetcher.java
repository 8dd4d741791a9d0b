package build.hearth.core.execroot;

import build.hearth.api.BlobUpload;
import build.hearth.api.ContentAddressableStorage;
import build.hearth.api.Digest;
import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fills the local cache with the blobs it lacks, streaming each one from the source CAS into a
 * verified upload of the cache, many at once on the injected executor. Blobs the cache holds are
 * not read at all.
 *
 * <p>Thread-safe.
 */
final class BlobFetcher {
  private static final Logger log = LoggerFactory.getLogger(BlobFetcher.class);
  private static final int CHUNK = 64 * 1024;
  private static final int MISSING_LISTED = 20;

  private final ContentAddressableStorage cache;
  private final ContentAddressableStorage source;
  private final Executor executor;

  BlobFetcher(
      ContentAddressableStorage cache, ContentAddressableStorage source, Executor executor) {
    this.cache = cache;
    this.source = source;
    this.executor = executor;
  }

  /**
   * Makes every blob of {@code digests} present in the cache.
   *
   * @throws HearthException FAILED_PRECONDITION listing the blobs the source lacks too; CANCELLED
   *     if the thread is interrupted (the interrupt flag stays set); else the first failure of a
   *     copy
   */
  void fetchMissing(Collection<Digest> digests) {
    Set<Digest> missing = cache.findMissing(digests);
    if (missing.isEmpty()) {
      return;
    }
    long started = System.nanoTime();
    AtomicBoolean abort = new AtomicBoolean();
    List<Digest> order = new ArrayList<>(missing);
    List<CompletableFuture<HearthException>> copies = new ArrayList<>(order.size());
    try {
      for (Digest digest : order) {
        copies.add(CompletableFuture.supplyAsync(() -> copy(digest, abort), executor));
      }
    } catch (RejectedExecutionException e) {
      abort.set(true);
      throw HearthException.unavailable("the fetch executor refused work; is it shut down?", e);
    }
    try {
      CompletableFuture.allOf(copies.toArray(CompletableFuture[]::new)).get();
    } catch (InterruptedException e) {
      abort.set(true);
      Thread.currentThread().interrupt();
      throw new HearthException(StatusCode.CANCELLED, "interrupted while fetching input blobs");
    } catch (ExecutionException e) {
      throw HearthException.internal("a fetch task failed unexpectedly", e.getCause());
    }
    List<Digest> notFound = new ArrayList<>();
    HearthException failure = null;
    for (int i = 0; i < copies.size(); i++) {
      HearthException e = copies.get(i).join();
      if (e == null) {
        continue;
      }
      if (e.code() == StatusCode.NOT_FOUND) {
        notFound.add(order.get(i));
      } else if (failure == null) {
        failure = e;
      } else {
        failure.addSuppressed(e);
      }
    }
    if (failure != null) {
      throw failure;
    }
    if (!notFound.isEmpty()) {
      throw missingInputs(notFound);
    }
    if (log.isDebugEnabled()) {
      log.debug(
          "Fetched {} of {} input blobs in {} ms",
          missing.size(),
          digests.size(),
          (System.nanoTime() - started) / 1_000_000);
    }
  }

  /** Copies one blob; returns its failure rather than throwing, so every copy gets its say. */
  private HearthException copy(Digest digest, AtomicBoolean abort) {
    if (abort.get()) {
      return new HearthException(StatusCode.CANCELLED, "fetch of " + digest + " cancelled");
    }
    InputStream in;
    try {
      in = source.read(digest, 0, 0);
    } catch (HearthException e) {
      return e;
    } catch (RuntimeException e) {
      return HearthException.internal("cannot read input blob " + digest + ": " + e, e);
    }
    try (in;
        BlobUpload upload = cache.startUpload(digest)) {
      byte[] buffer = new byte[(int) Math.min(CHUNK, Math.max(1, digest.sizeBytes()))];
      int n;
      while ((n = in.read(buffer)) > 0) {
        if (abort.get()) {
          return new HearthException(StatusCode.CANCELLED, "fetch of " + digest + " cancelled");
        }
        upload.write(buffer, 0, n);
      }
      upload.commit();
      return null;
    } catch (HearthException e) {
      if (e.code() == StatusCode.INVALID_ARGUMENT) {
        return new HearthException(
            StatusCode.DATA_LOSS,
            "input blob "
                + digest
                + " read from the CAS does not match its digest: "
                + e.getMessage(),
            e);
      }
      return e;
    } catch (IOException e) {
      return HearthException.unavailable(
          "cannot read input blob " + digest + " from the CAS: " + e, e);
    } catch (RuntimeException e) {
      return HearthException.internal("cannot fetch input blob " + digest + ": " + e, e);
    }
  }

  static HearthException missingInputs(Collection<Digest> digests) {
    String listed =
        digests.stream()
            .sorted()
            .limit(MISSING_LISTED)
            .map(Digest::toString)
            .collect(Collectors.joining(", "));
    String more =
        digests.size() > MISSING_LISTED
            ? " and " + (digests.size() - MISSING_LISTED) + " more"
            : "";
    return HearthException.failedPrecondition(
        "%d input file%s missing from the CAS: %s%s; upload %s and retry",
        digests.size(),
        digests.size() == 1 ? " is" : "s are",
        listed,
        more,
        digests.size() == 1 ? "it" : "them");
  }
}
