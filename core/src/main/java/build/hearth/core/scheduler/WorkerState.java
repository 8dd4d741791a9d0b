package build.hearth.core.scheduler;

import build.hearth.spi.worker.WorkerSpec;
import java.math.BigDecimal;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * A connected worker as the scheduler sees it, handed to the worker as its {@link WorkerSession}.
 * The sets are guarded by the scheduler's lock.
 */
final class WorkerState<T, R> implements WorkerSession {
  private final DefaultScheduler<T, R> scheduler;
  private final WorkerSpec spec;
  final WorkerListener<T, R> listener;
  final Mailbox mailbox;
  // The largest value of each MINIMUM property, parsed once at connection.
  private final Map<String, BigDecimal> numbers;
  // The properties in the platform lexicon's spelling, for matching (see PlatformLexicon).
  private final Map<String, Set<String>> matched;

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
      WorkerSpec spec,
      WorkerListener<T, R> listener,
      Mailbox mailbox,
      Map<String, BigDecimal> numbers) {
    this.scheduler = scheduler;
    this.spec = spec;
    this.listener = listener;
    this.mailbox = mailbox;
    this.numbers = Map.copyOf(numbers);
    this.matched = PlatformLexicon.canonical(spec).properties();
  }

  WorkerSpec spec() {
    return spec;
  }

  int freeSlots() {
    return spec.slots() - active.size();
  }

  /** The worker's value of MINIMUM property {@code name}, or null if it has none. */
  BigDecimal number(String name) {
    return numbers.get(name);
  }

  /**
   * Whether the worker offers {@code value} of property {@code name}, comparing the lexicon's
   * spellings ({@code Linux} and {@code linux} are one {@code OSFamily}).
   */
  boolean offers(String name, String value) {
    Set<String> offered = matched.get(name);
    return offered != null && offered.contains(PlatformLexicon.canonical(name, value));
  }

  boolean satisfies(Requirements.Key key) {
    for (Map.Entry<String, Set<String>> required : key.exact().entrySet()) {
      for (String value : required.getValue()) {
        if (!offers(required.getKey(), value)) {
          return false;
        }
      }
    }
    for (Map.Entry<String, BigDecimal> required : key.minimum().entrySet()) {
      BigDecimal offered = numbers.get(required.getKey());
      if (offered == null || offered.compareTo(required.getValue()) < 0) {
        return false;
      }
    }
    return true;
  }

  @Override
  public String name() {
    return spec.name();
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
        + spec.name()
        + (connected ? "" : ", disconnected")
        + (draining ? ", draining" : "")
        + "}";
  }
}
