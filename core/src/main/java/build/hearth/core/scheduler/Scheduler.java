package build.hearth.core.scheduler;

import build.hearth.spi.worker.WorkerSpec;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Matches submitted actions with connected workers.
 *
 * <p>The execution service {@linkplain #submit submits} an action and waits on the {@link Ticket}.
 * A worker {@linkplain #connect connects} with its {@link WorkerSpec}, receives {@link Assignment}s
 * through its {@link WorkerListener}, answers each, and eventually {@linkplain
 * WorkerSession#disconnect disconnects}.
 *
 * <pre>{@code
 * Scheduler<MyTask, ActionResult> scheduler = Scheduler.newBuilder()
 *     .propertyType("OSFamily", PropertyType.EXACT)
 *     .propertyType("cpu_count", PropertyType.MINIMUM)
 *     .maxQueueTime(Duration.ofMinutes(30))
 *     .build();
 * WorkerSession session = scheduler.connect(spec, assignment -> runner.run(assignment));
 * Ticket<ActionResult> ticket =
 *     scheduler.submit(ActionRequest.of(name, action.getPlatform(), task));
 * ticket.result().whenComplete(...);
 * }</pre>
 *
 * <h2>Matching</h2>
 *
 * Each platform property of an action is compared with the worker's property of the same name
 * according to its {@link PropertyType}. An action runs only on a worker that meets all its {@link
 * PropertyType#EXACT} and {@link PropertyType#MINIMUM} properties; {@link PropertyType#PRIORITY}
 * properties and the {@link WorkerScorer} choose among such workers. Each assignment takes one of
 * the worker's slots until the worker answers it.
 *
 * <h2>Order</h2>
 *
 * Among the queued actions a worker can run, it gets the one with the lowest priority number; among
 * equal priorities, actions that lost their worker first, then the rest in submission order.
 *
 * <h2>When an action cannot run</h2>
 *
 * <ul>
 *   <li>On submission, if workers are connected but none of them meets the action's required
 *       properties, the action fails at once with FAILED_PRECONDITION, naming the property and the
 *       values the workers offer.
 *   <li>If no worker at all is connected, the action waits: a worker may be starting. It is not
 *       failed when workers that cannot run it connect later; it waits for one that can.
 *   <li>If the last worker that could run a queued action disconnects, the action keeps waiting,
 *       because that worker may be restarting. It was runnable when it was submitted; new
 *       submissions of the same kind fail at once as above.
 *   <li>Any action queued longer than the maximum queue time fails with UNAVAILABLE; the message
 *       says whether no worker was connected, none could run it, or those that could stayed busy.
 *       The time restarts when an action is queued again after losing its worker.
 *   <li>An action whose worker disconnects is queued again, ahead of other actions of its priority,
 *       until it has been lost more often than the retry limit allows; then it fails with
 *       UNAVAILABLE naming the workers it was lost with.
 *   <li>An action whose worker holds it past its timeout plus the {@linkplain
 *       SchedulerBuilder#assignmentGrace grace} without answering is taken back from that worker
 *       (told to cancel it) and counts as lost the same way; when the retries are used up it fails
 *       with DEADLINE_EXCEEDED naming the worker and how long it held the action.
 * </ul>
 *
 * <h2>Threads</h2>
 *
 * All methods are thread-safe and never wait for a worker: the queue and the worker bookkeeping sit
 * behind one lock that is held only for in-memory work. Listener calls go through a per-worker
 * serial hand-off to the callback executor (see {@link WorkerListener}); results complete on the
 * thread that caused them, after the lock is released (see {@link Ticket}).
 *
 * @param <T> the type of the tasks workers receive
 * @param <R> the type of the results workers report
 */
public interface Scheduler<T, R> extends AutoCloseable {

  /** A builder with the defaults described on each of its methods. */
  static SchedulerBuilder newBuilder() {
    return new SchedulerBuilder();
  }

  /**
   * Queues an action, or assigns it at once if a suitable worker has a free slot. Never throws for
   * a problem with the request: every failure arrives through {@link Ticket#result()}. The one
   * refusal is the server's, not the request's: when the queue already holds {@linkplain
   * SchedulerBuilder#maxQueuedActions the most actions it may}, nothing is queued and no ticket
   * exists.
   *
   * @throws build.hearth.api.HearthException RESOURCE_EXHAUSTED (limit {@code scheduler_queue},
   *     with a retry hint) if the queue is full
   */
  Ticket<R> submit(ActionRequest<T> request);

  /**
   * Connects a worker. Queued actions it can run are assigned to it at once, up to its slots.
   *
   * @throws build.hearth.api.HearthException INVALID_ARGUMENT if a {@link PropertyType#MINIMUM}
   *     property of the worker has a value that is not a number; UNAVAILABLE if the scheduler is
   *     closed
   */
  WorkerSession connect(WorkerSpec worker, WorkerListener<T, R> listener);

  /**
   * Connects a worker that re-attaches after its server went away, still running {@code running}
   * (the {@linkplain ActionRequest#name() names} of assignments it was given on another server). A
   * scheduler that {@linkplain #reattachGrace() keeps a lost worker's actions} takes over those
   * that are still this worker's: they are {@linkplain Reattached#adopted() returned}, count
   * against its slots, and their answers count as if they had been assigned here. The others are
   * not adopted (another worker's, or queued again since). By default, nothing is adopted: the
   * worker connects as with {@link #connect(WorkerSpec, WorkerListener)}.
   *
   * @param running what the worker says it still runs; its caller bounds it to the worker's slots
   * @throws build.hearth.api.HearthException as {@link #connect(WorkerSpec, WorkerListener)}
   */
  default Reattached<T, R> reattach(
      WorkerSpec worker, Set<String> running, WorkerListener<T, R> listener) {
    return new Reattached<>(connect(worker, listener), List.of());
  }

  /**
   * {@return how long the scheduler keeps the actions of a worker whose connection ended, for it to
   * re-attach through any server of the service and deliver them; empty when it queues them again
   * at once} A scheduler whose state several servers share keeps them for the worker's lease.
   */
  default Optional<Duration> reattachGrace() {
    return Optional.empty();
  }

  /**
   * Fails, with UNAVAILABLE, every action that has been queued for at least the maximum queue time;
   * and takes back every assignment a worker has held past its deadline (the action's {@linkplain
   * ActionRequest#timeout() timeout} plus the {@linkplain SchedulerBuilder#assignmentGrace grace}),
   * queueing its action again or failing it with DEADLINE_EXCEEDED as {@link
   * SchedulerBuilder#assignmentGrace} describes. The scheduler calls this itself every {@link
   * SchedulerBuilder#expiryCheckInterval} unless that is zero; tests that move a fake clock call it
   * by hand.
   *
   * @return how many actions it failed or took back
   */
  int expireOverdue();

  /**
   * {@return a ticket following the execution submitted through another server of the service under
   * the {@linkplain ActionRequest#name() name} {@code name}, while the shared state still knows it}
   * Empty by default: a scheduler of one server knows only its own tickets, which the submitter
   * holds. A shared scheduler answers from its state, so that a client whose server died can wait
   * for its operation on another.
   *
   * @param name the name the action was submitted with
   */
  default Optional<Ticket<R>> follow(String name) {
    return Optional.empty();
  }

  /** The current counters. */
  SchedulerStats stats();

  /**
   * {@return the connected workers now, in the order they connected, each with its busy slots} A
   * snapshot taken under the scheduler's lock, for pages and admin endpoints; empty by default.
   */
  default List<WorkerSnapshot> workers() {
    return List.of();
  }

  /**
   * One connected worker as {@link #workers()} saw it.
   *
   * @param spec its name, properties and slots, as it connected
   * @param busySlots the slots its assignments hold
   * @param draining whether it takes no new assignment
   */
  record WorkerSnapshot(WorkerSpec spec, int busySlots, boolean draining) {}

  /**
   * Fails every queued and executing action with UNAVAILABLE, tells workers to cancel what they
   * run, disconnects them, and stops the executors the scheduler created itself. Later submissions
   * fail with UNAVAILABLE. Idempotent.
   */
  @Override
  void close();
}
