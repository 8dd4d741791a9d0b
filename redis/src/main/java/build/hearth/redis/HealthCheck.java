package build.hearth.redis;

import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Answers "is Redis there?" from the last probe, never waiting for one: a caller that asks at most
 * once per interval starts a new probe and gets the last answer (or the new one, if the probe fails
 * at once, as a command on a disconnected Redis does). So a readiness endpoint probed under load
 * sends Redis at most one probe per interval and never blocks a transport thread. Thread-safe.
 */
final class HealthCheck {
  private final Supplier<CompletableFuture<?>> probe;
  private final Function<Throwable, String> describe;
  private final LongSupplier nanoTime;
  private final long intervalNanos;
  private final AtomicBoolean probing = new AtomicBoolean();
  private volatile boolean started;
  private volatile long lastProbe;
  private volatile String problem; // null while the last probe succeeded

  /**
   * @param probe sends one probe; its reply completes normally when Redis answered
   * @param describe turns a failed probe's cause into the problem a user reads
   * @param nanoTime the clock of the interval
   * @param intervalNanos the least time between two probes
   */
  HealthCheck(
      Supplier<CompletableFuture<?>> probe,
      Function<Throwable, String> describe,
      LongSupplier nanoTime,
      long intervalNanos) {
    this.probe = probe;
    this.describe = describe;
    this.nanoTime = nanoTime;
    this.intervalNanos = intervalNanos;
  }

  /** {@return the problem the last probe found; empty while Redis answered it} */
  Optional<String> problem() {
    long now = nanoTime.getAsLong();
    if ((!started || now - lastProbe >= intervalNanos) && probing.compareAndSet(false, true)) {
      started = true;
      lastProbe = now;
      CompletableFuture<?> reply;
      try {
        reply = probe.get();
      } catch (RuntimeException e) {
        reply = CompletableFuture.failedFuture(e);
      }
      reply.whenComplete(
          (ok, error) -> {
            problem = error == null ? null : describe.apply(unwrap(error));
            probing.set(false);
          });
    }
    return Optional.ofNullable(problem);
  }

  private static Throwable unwrap(Throwable e) {
    return e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
  }
}
