package build.hearth.core;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Objects;

/**
 * Owns resources opened one after another and closes them in reverse order, every one of them even
 * when some fail. Used by whatever starts several stores, schedulers, workers or transports: on a
 * failed start it closes what was already open, and on shutdown it closes everything.
 *
 * <pre>{@code
 * Closer closer = new Closer();
 * try {
 *   BlobStore cas = closer.register(openCas());
 *   Scheduler<?, ?> scheduler = closer.register(newScheduler());
 * } catch (RuntimeException e) {
 *   closer.closeAfter(e);
 *   throw e;
 * }
 * }</pre>
 *
 * <p>Thread-safe. Closing is idempotent: a closed resource is forgotten.
 */
public final class Closer implements AutoCloseable {
  private final Deque<AutoCloseable> resources = new ArrayDeque<>();

  /**
   * Takes ownership of {@code resource}: it is closed with the others, in reverse order.
   *
   * @param <C> the resource's type
   * @param resource the resource
   * @return {@code resource}, for chaining
   */
  public synchronized <C extends AutoCloseable> C register(C resource) {
    resources.push(Objects.requireNonNull(resource, "resource"));
    return resource;
  }

  /**
   * Closes every registered resource, the most recently registered first.
   *
   * @throws IllegalStateException if any failed to close, with the first failure as its cause and
   *     the others suppressed
   */
  @Override
  public void close() {
    RuntimeException failure = closeAll(null);
    if (failure != null) {
      throw failure;
    }
  }

  /**
   * Closes every registered resource after {@code primary} went wrong, adding any failure to close
   * to {@code primary} as suppressed, so the caller rethrows the error that matters.
   *
   * @param primary the failure the caller is about to rethrow
   */
  public void closeAfter(Throwable primary) {
    closeAll(Objects.requireNonNull(primary, "primary"));
  }

  private RuntimeException closeAll(Throwable primary) {
    RuntimeException failure = null;
    while (true) {
      AutoCloseable resource;
      synchronized (this) {
        resource = resources.poll();
      }
      if (resource == null) {
        return failure;
      }
      try {
        resource.close();
      } catch (Exception e) {
        if (primary != null) {
          primary.addSuppressed(e);
        } else if (failure == null) {
          failure = new IllegalStateException("closing " + resource + " failed", e);
        } else {
          failure.addSuppressed(e);
        }
      }
    }
  }
}
