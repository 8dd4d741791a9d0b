package build.hearth.core.persistent;

import build.hearth.api.PoolLimits;
import build.hearth.api.RetirementReason;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The right to send one request to a persistent worker process, from {@link ToolPool#acquire}. Or,
 * under {@link PoolLimits.AtCapacity#ONE_SHOT} when every process is busy, the word that there is
 * none: {@link #oneShot()} is then true and the caller runs the action as an ordinary process.
 *
 * <p>Every lease ends with exactly one of {@link #release()} (the request was answered, whatever
 * its exit code) or {@link #retire} (the process failed or must go); whichever comes first counts,
 * and later calls do nothing. {@link #close()} releases a lease that has not ended, so that
 * try-with-resources cannot leak a process.
 *
 * <pre>{@code
 * try (Lease lease = pool.acquire(key, Duration.ofMinutes(5), cancellation)) {
 *   if (lease.oneShot()) {
 *     return runOrdinaryProcess(action);
 *   }
 *   syncInputs(lease.processDirectory(), action);
 *   try {
 *     WorkResponse response = lease.process().send(request(lease.requestId())).join();
 *     ...
 *   } catch (CompletionException e) {
 *     lease.retire(RetirementReason.CRASH, e.getCause().getMessage());
 *     throw ...;
 *   }
 * }
 * }</pre>
 *
 * <p>Thread-safe: a cancelling thread may retire a lease while its holder releases it.
 */
public final class Lease implements AutoCloseable {
  private final ToolPool pool;
  private final ToolKey key;
  private final PooledProcess slot;
  private final ToolProcess process;
  private final long requestNumber;
  private final int requestId;
  private final Instant acquiredAt;
  private final AtomicBoolean ended = new AtomicBoolean();

  Lease(ToolPool pool, PooledProcess slot, long requestNumber, Instant acquiredAt) {
    this.pool = pool;
    this.key = slot.owner.key;
    this.slot = slot;
    this.process = Objects.requireNonNull(slot.process, "a lease needs a started process");
    this.requestNumber = requestNumber;
    // Multiplex ids must be unique and non-zero among the requests in flight on a process; the
    // number of the lease is, and it wraps long after the earlier ones have been answered.
    this.requestId = key.multiplex() ? (int) ((requestNumber - 1) % Integer.MAX_VALUE) + 1 : 0;
    this.acquiredAt = acquiredAt;
  }

  private Lease(ToolKey key) {
    this.pool = null;
    this.key = key;
    this.slot = null;
    this.process = null;
    this.requestNumber = 0;
    this.requestId = 0;
    this.acquiredAt = null;
    ended.set(true);
  }

  static Lease oneShot(ToolKey key) {
    return new Lease(key);
  }

  /** The key the lease was acquired for. */
  public ToolKey key() {
    return key;
  }

  /** Whether there is no process: the caller runs the action as an ordinary process instead. */
  public boolean oneShot() {
    return slot == null;
  }

  /**
   * The process to send the request to.
   *
   * @throws IllegalStateException for a {@link #oneShot()} lease
   */
  public ToolProcess process() {
    requireProcess();
    return process;
  }

  /**
   * The process's working directory, owned by the pool. For a singleplex key the caller makes it
   * match the action's inputs; for a multiplex key each request gets its own subdirectory, named in
   * the request's {@code sandbox_dir}.
   *
   * @throws IllegalStateException for a {@link #oneShot()} lease
   */
  public Path processDirectory() {
    requireProcess();
    return slot.directory;
  }

  /**
   * Whether the process had been handed a request before this one: it is started, and for a JVM
   * tool it has probably loaded its classes. False for a process's first request and for a {@link
   * #oneShot()} lease.
   */
  public boolean warm() {
    return requestNumber > 1;
  }

  /** Which request of its process this is, from 1; 0 for a {@link #oneShot()} lease. */
  public long requestNumber() {
    return requestNumber;
  }

  /**
   * The {@code request_id} to send: 0 for a singleplex process, and for a multiplex one a positive
   * id that no other request in flight on the process has.
   */
  public int requestId() {
    return requestId;
  }

  /**
   * Ends the lease after the request was answered; the process serves the next one. The pool then
   * reads the process's resident memory and retires it if it is over the key's memory limit, or if
   * it has served its maximum number of requests, or if it has ended.
   */
  public void release() {
    if (ended.compareAndSet(false, true)) {
      pool.release(this);
    }
  }

  /**
   * Ends the lease and retires its process at once, for example with {@link RetirementReason#CRASH}
   * after a {@link ToolProcessException}, or {@link RetirementReason#CANCELLED} when a request of a
   * tool that cannot cancel was cancelled. For those two the process is killed; for other reasons
   * it is shut down with the pool's grace. Other requests in flight on a multiplex process fail.
   *
   * @param detail what happened, for the log line; may be empty
   */
  public void retire(RetirementReason reason, String detail) {
    Objects.requireNonNull(reason, "reason");
    Objects.requireNonNull(detail, "detail");
    if (ended.compareAndSet(false, true)) {
      pool.retire(this, reason, detail);
    }
  }

  /** {@link #release()}, unless the lease has already ended. */
  @Override
  public void close() {
    release();
  }

  PooledProcess slot() {
    return slot;
  }

  Instant acquiredAt() {
    return acquiredAt;
  }

  private void requireProcess() {
    if (slot == null) {
      throw new IllegalStateException(
          "this lease is one-shot: every process of "
              + key
              + " was busy; run the action as an"
              + " ordinary process");
    }
  }

  @Override
  public String toString() {
    return oneShot()
        ? "Lease{one-shot, " + key + "}"
        : "Lease{" + key + ", pid " + process.pid() + ", request " + requestNumber + "}";
  }
}
