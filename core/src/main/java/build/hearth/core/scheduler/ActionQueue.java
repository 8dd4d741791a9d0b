package build.hearth.core.scheduler;

import java.util.LinkedHashSet;
import java.util.Set;
import java.util.TreeSet;

/**
 * The queued actions that share one {@link Requirements.Key}, in dispatch order, and the connected
 * workers that meet the key. A queue exists only while it holds actions, so a worker's set of
 * queues is exactly the work it could take. Guarded by the scheduler's lock.
 */
final class ActionQueue<T, R> {
  final Requirements.Key key;
  final TreeSet<QueuedAction<T, R>> actions = new TreeSet<>(QueuedAction.DISPATCH_ORDER);
  // Insertion order is connection order, which breaks ties between equally good workers.
  final Set<WorkerState<T, R>> eligible = new LinkedHashSet<>();

  ActionQueue(Requirements.Key key) {
    this.key = key;
  }
}
