package build.hearth.spi.scheduler;

import build.hearth.spi.storage.StoreHealth;
import com.google.protobuf.ByteString;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The shared state of one scheduler: what several servers must agree on to be one service.
 *
 * <h2>The life of an execution</h2>
 *
 * <ol>
 *   <li>{@link #enqueue} puts it in the queue of its {@code queueKey}, or joins the execution of
 *       the same action key that is in flight.
 *   <li>A server holding a worker with a free slot {@linkplain #claim claims} the best queued
 *       execution among the queues the worker meets, atomically: two servers never claim the same
 *       entry.
 *   <li>The worker answers, and its server {@linkplain #complete completes} the execution with the
 *       response; every server with a client waiting hears of it through {@link #subscribe} (and
 *       polls {@link #execution} in case a notification is lost).
 *   <li>If the worker is lost (its lease lapsed, or it held the claim past the deadline), any
 *       server {@linkplain #requeue requeues} it; if its server died but the worker lives, the
 *       server it re-attaches through {@linkplain #adopt adopts} its claims, so nothing runs twice.
 * </ol>
 *
 * <h2>Order</h2>
 *
 * Among the entries of the queues a claim looks at, it takes the lowest priority number; among
 * equal priorities, requeued entries first; then the order they were queued in.
 *
 * <h2>Time</h2>
 *
 * Callers pass the time ({@code now}) of their clock, so the servers of one service need clocks
 * that agree to well within the leases and deadlines they configure (NTP does).
 *
 * <h2>Failures</h2>
 *
 * Every method may throw {@link build.hearth.api.HearthException} UNAVAILABLE when the state's
 * backing service is unreachable, naming it; the state is never left half-changed by one call.
 * Every method is thread-safe.
 */
public interface SchedulerState extends AutoCloseable {

  // ---- the queue ----

  /**
   * Queues an execution, unless one of the same non-empty action key is queued or running (the
   * caller then follows that one) or the queues already hold {@code maxQueued} executions. Queueing
   * an execution id the state already knows changes nothing and answers QUEUED, so a retried call
   * is harmless.
   *
   * @param execution the new entry, as {@link QueuedExecution#of} makes it
   * @param maxQueued the most executions the queues may hold
   * @return what happened, and which execution to follow
   */
  Enqueued enqueue(QueuedExecution execution, int maxQueued);

  /**
   * The non-empty queues.
   *
   * @return each queue's key with the number of executions in it
   */
  Map<String, Long> queues();

  /**
   * Takes the best queued execution among the queues named (see "Order") for a worker, atomically.
   *
   * @param queueKeys the queues the worker meets; unknown or empty ones are ignored
   * @param workerId the worker that will run it
   * @param serverId the server the worker is attached to
   * @param now the claim's time
   * @param grace how long past the execution's timeout the claim may be held before it is overdue
   * @return the claimed entry, or empty if those queues are empty
   */
  Optional<Claimed> claim(
      Collection<String> queueKeys, String workerId, String serverId, Instant now, Duration grace);

  /**
   * Takes a claim back from a worker that lost it, and queues the execution again (attempt one
   * more, the worker added to {@code lostWith}), unless it was already lost {@code maxRetries}
   * times. Only the claim of {@code workerId} is taken: a requeue that races with the worker's
   * answer, an adoption or another server's requeue changes nothing.
   *
   * @param executionId the execution
   * @param workerId the worker that must hold it
   * @param maxRetries how often an execution may be queued again
   * @param countAttempt false for a claim the worker never received (its server died before sending
   *     it), which is queued again without counting against the retries
   * @param now the time it is queued again
   * @return what happened
   */
  Requeued requeue(
      String executionId, String workerId, int maxRetries, boolean countAttempt, Instant now);

  /**
   * The entries that waited too long.
   *
   * @param before entries queued before this instant are returned
   * @param max the most to return
   * @return those entries, the oldest first; they stay queued until completed
   */
  List<QueuedExecution> queuedBefore(Instant before, int max);

  /**
   * The claims held past their deadline.
   *
   * @param now claims whose deadline is not after this are returned
   * @param max the most to return
   * @return those claims, the first due first; they stay until requeued or completed
   */
  List<Claim> overdueClaims(Instant now, int max);

  /**
   * Counts the executions in flight.
   *
   * @return how many are queued, and how many claimed
   */
  Counts counts();

  /**
   * Counters of the state.
   *
   * @param queued executions in the queues
   * @param claimed executions held by workers
   */
  record Counts(long queued, long claimed) {}

  // ---- executions ----

  /**
   * Completes an execution with its response, whatever its stage: it leaves its queue or claim, no
   * longer takes joiners, and keeps the response for {@code retention}. Tells every subscriber.
   *
   * @param executionId the execution
   * @param response what its clients receive, opaque to the state
   * @param retention how long the completed execution stays readable
   * @return false if the execution is unknown or already completed (the first completion wins)
   */
  boolean complete(String executionId, ByteString response, Duration retention);

  /**
   * What the state knows of an execution.
   *
   * @param executionId the execution
   * @return its record, empty once unknown or expired
   */
  Optional<ExecutionRecord> execution(String executionId);

  /**
   * The claim on an execution.
   *
   * @param executionId the execution
   * @return the claim if a worker holds it, else empty
   */
  Optional<Claim> claimOf(String executionId);

  // ---- operations ----

  /**
   * Records that an operation (a client's name for its Execute call) follows an execution; a second
   * call for the same name replaces the first.
   *
   * @param operationName the operation
   * @param executionId the execution it follows
   * @param ttl how long the record stays
   */
  void putOperation(String operationName, String executionId, Duration ttl);

  /**
   * The execution an operation follows.
   *
   * @param operationName the operation
   * @return its execution id, empty if the operation is unknown or expired
   */
  Optional<String> operation(String operationName);

  // ---- workers ----

  /**
   * Registers (or updates) a worker. While its lease holds, the worker counts for {@link #workers}
   * and its claims are safe from {@link #lapsed}.
   *
   * @param worker the worker and the server it is attached to
   * @param now the time of registration
   * @param lease how long the registration holds unless {@linkplain #renew renewed}
   */
  void register(WorkerRecord worker, Instant now, Duration lease);

  /**
   * Extends a worker's lease.
   *
   * @param workerId the worker
   * @param serverId the server it is attached to
   * @param now the time of renewal
   * @param lease how long it holds from now
   * @return false if the worker is not registered through {@code serverId} (its lease lapsed and it
   *     was dropped, or it re-attached elsewhere); the caller registers it again
   */
  boolean renew(String workerId, String serverId, Instant now, Duration lease);

  /**
   * Takes a worker that disconnected from {@code serverId} out of {@link #workers}. Its lease runs
   * on: if it re-attaches through another server before the lease lapses, that server adopts its
   * claims; otherwise {@link #lapsed} returns them.
   *
   * @param workerId the worker
   * @param serverId the server it was attached to; a worker registered elsewhere meanwhile stays
   */
  void unregister(String workerId, String serverId);

  /**
   * The workers attached now.
   *
   * @param now the time the leases are judged at
   * @return the registered workers whose lease holds
   */
  List<WorkerRecord> workers(Instant now);

  /**
   * Drops the workers whose lease lapsed, registered or not, and returns the claims they held,
   * which the caller {@linkplain #requeue requeues}.
   *
   * @param now the time the leases are judged at
   * @param max the most claims to return; call again for more
   * @return claims of workers whose lease lapsed before {@code now}
   */
  List<Claim> lapsed(Instant now, int max);

  /**
   * A worker re-attached through {@code serverId}, still running {@code running}: its claims among
   * those move to that server, and the rest of its claims are returned for requeueing. Only the
   * claims of {@code workerId} move: an id of another worker's claim, or of no claim, is ignored,
   * so a worker cannot take over what it was not given.
   *
   * @param workerId the worker, registered again through {@code serverId} first
   * @param serverId the server it re-attached through
   * @param running the executions the worker says it still runs
   * @return the claims adopted, each with its queue entry, and those the worker no longer runs
   */
  Adopted adopt(String workerId, String serverId, Collection<String> running);

  // ---- notifications ----

  /**
   * Tells {@code listener} of every change any server makes, until the returned handle is closed.
   * Delivery is best effort: a server that misses one (while Redis reconnects, say) finds the
   * change by polling, so a lost notification costs time, never an answer.
   *
   * @param listener what to tell
   * @return the subscription, which the caller closes
   */
  AutoCloseable subscribe(Listener listener);

  /**
   * What {@link #subscribe} tells. Calls come after the change is visible, from the state's own
   * threads (Redis) or from the thread that made the change (memory): return quickly, and hand
   * anything that waits, such as another call to the state, to an executor of your own.
   */
  interface Listener {
    /**
     * An execution was queued, or queued again.
     *
     * @param queueKey the queue it is in
     */
    default void queued(String queueKey) {}

    /**
     * An execution completed (a cancelled one completes with that response).
     *
     * @param executionId the execution
     */
    default void completed(String executionId) {}
  }

  /**
   * {@return whether the state can be used now, answered from what the state last saw (it must not
   * wait for a remote service): {@code /readyz} asks it} Healthy by default, which suits a state in
   * the server's own memory.
   */
  default StoreHealth health() {
    return StoreHealth.healthy();
  }

  /** Releases the connections; the shared state itself stays. Idempotent. */
  @Override
  void close();
}
