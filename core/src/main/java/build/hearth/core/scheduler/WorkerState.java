package build.hearth.core.scheduler;

import build.hearth.spi.worker.WorkerSpec;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * A connected worker as the scheduler sees it, handed to the worker as its {@link WorkerSession}.
 * The sets are guarded by the scheduler's lock.
 */
final class WorkerState<T, R> implements WorkerSession {
  private final DefaultScheduler<T, R> scheduler;
  final WorkerOffer offer;
  final WorkerListener<T, R> listener;
  final Mailbox mailbox;

  /** The queues whose actions this worker could run; see {@link ActionQueue}. */
  final Set<ActionQueue<T, R>> queues = new HashSet<>();

  /** Assignments holding one of this worker's slots. */
  final Set<ActiveAssignment<T, R>> active = new LinkedHashSet<>();

  volatile boolean connected;
  // Set by drain(): the worker is in no queue's eligible set and gets no new assignment.
  volatile boolean draining;
  // Set when the listener threw; no more calls are made to it.
  volatile boolean broken;

  WorkerState(
      DefaultScheduler<T, R> scheduler,
      WorkerOffer offer,
      WorkerListener<T, R> listener,
      Mailbox mailbox) {
    this.scheduler = scheduler;
    this.offer = offer;
    this.listener = listener;
    this.mailbox = mailbox;
  }

  WorkerSpec spec() {
    return offer.spec();
  }

  int freeSlots() {
    return offer.spec().slots() - active.size();
  }

  /** See {@link WorkerOffer#offers}. */
  boolean offers(String name, String value) {
    return offer.offers(name, value);
  }

  boolean satisfies(Requirements.Key key) {
    return offer.satisfies(key);
  }

  @Override
  public String name() {
    return offer.spec().name();
  }

  @Override
  public boolean isConnected() {
    return connected;
  }

  @Override
  public void drain() {
    scheduler.drain(this);
  }

  @Override
  public boolean isDraining() {
    return draining;
  }

  @Override
  public void disconnect() {
    scheduler.disconnect(this, null);
  }

  @Override
  public String toString() {
    return "Worker{"
        + offer.spec().name()
        + (connected ? "" : ", disconnected")
        + (draining ? ", draining" : "")
        + "}";
  }
}
