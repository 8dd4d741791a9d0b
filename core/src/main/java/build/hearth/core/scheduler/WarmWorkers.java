package build.hearth.core.scheduler;

import build.bazel.remote.execution.v2.Platform;
import build.hearth.spi.worker.WorkerSpec;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A {@link WorkerScorer} that sends a persistent-worker action to a worker holding an idle warm
 * process for the action's {@value PersistentWorkerProperties#KEY}, and otherwise lets the
 * scheduler spread the load.
 *
 * <p>Workers {@linkplain #report report} how many idle warm processes they hold per client key
 * whenever that changes. A worker with at least one idle process for the action's key scores 1,
 * every other worker 0. The scheduler only considers workers with a free slot, so a warm worker
 * whose slots are all taken, or whose warm processes are all busy, does not attract the action: it
 * spills over to the worker with the most free slots, and a hot key never piles up on one machine.
 *
 * <p>Reports arrive on their own schedule, so each assignment of an action with a key counts one
 * idle process of that key on the chosen worker as taken at once; otherwise a burst of actions
 * would all go to the one warm worker before it could report again. The worker's next report
 * replaces the counts, whatever they were.
 *
 * <pre>{@code
 * WarmWorkers warm = new WarmWorkers();
 * Scheduler<Task, Result> scheduler = Scheduler.newBuilder().workerScorer(warm).build();
 * // on the worker "builder-1", whenever its pool's idle processes change:
 * warm.report("builder-1", Map.of("javac-17", 2));
 * }</pre>
 *
 * <p>Workers are known by name, which should be unique among the workers connected to one scheduler
 * (the worker API enforces that for its workers; connected workers that share a name share one
 * record, and the last report of either wins). A report for a worker that is not connected is
 * dropped, and a worker's counts are forgotten when it disconnects. Give each scheduler its own
 * instance. In-process workers report to it directly ({@code LocalWorker.reportWarmProcesses});
 * workers in other processes report through their connection to the scheduler's {@code
 * core.remote.SchedulerWorkerHub}, which passes the reports on here.
 *
 * <p>Thread-safe and lock-free apart from {@link ConcurrentHashMap}'s per-entry locking: {@link
 * #report} may be called from any thread, and the scorer methods never block, as the scheduler
 * calls them with its lock held.
 */
public final class WarmWorkers implements WorkerScorer {

  /**
   * What is known of the workers of one name: how many of them are connected (more than one only
   * for the moment a reconnecting worker overlaps its old connection) and their idle processes per
   * key, without zero counts. Immutable; replaced whole.
   */
  private record Entry(int connections, Map<String, Integer> idle) {}

  private final ConcurrentHashMap<String, Entry> workers = new ConcurrentHashMap<>();

  /** A scorer that knows of no worker yet. */
  public WarmWorkers() {}

  /**
   * Replaces what worker {@code workerName} last reported: for each client key ({@value
   * PersistentWorkerProperties#KEY} value), how many of its warm processes are idle. Keys missing
   * from the map, and counts of zero or less, mean none.
   *
   * @return false, with nothing recorded, if no worker of that name is connected to the scheduler
   */
  public boolean report(String workerName, Map<String, Integer> idleByClientKey) {
    Objects.requireNonNull(workerName, "workerName");
    Map<String, Integer> idle = positive(idleByClientKey);
    return workers.computeIfPresent(workerName, (name, entry) -> new Entry(entry.connections, idle))
        != null;
  }

  /**
   * The idle warm processes per client key that the scheduler counts for worker {@code workerName}:
   * its last report less the assignments made since. Empty for a worker that is not connected.
   */
  public Map<String, Integer> idle(String workerName) {
    Entry entry = workers.get(Objects.requireNonNull(workerName, "workerName"));
    return entry == null ? Map.of() : entry.idle;
  }

  @Override
  public int score(ActionRequest<?> request, WorkerSpec worker) {
    String key = keyOf(request.platform());
    if (key == null) {
      return 0;
    }
    Entry entry = workers.get(worker.name());
    return entry != null && entry.idle.containsKey(key) ? 1 : 0;
  }

  @Override
  public void connected(WorkerSpec worker) {
    workers.merge(
        worker.name(),
        new Entry(1, Map.of()),
        (old, added) -> new Entry(old.connections + 1, old.idle));
  }

  @Override
  public void assigned(ActionRequest<?> request, WorkerSpec worker) {
    String key = keyOf(request.platform());
    if (key == null) {
      return;
    }
    workers.computeIfPresent(
        worker.name(),
        (name, entry) -> {
          Integer count = entry.idle.get(key);
          if (count == null) {
            return entry;
          }
          Map<String, Integer> idle = new HashMap<>(entry.idle);
          if (count > 1) {
            idle.put(key, count - 1);
          } else {
            idle.remove(key);
          }
          return new Entry(entry.connections, Collections.unmodifiableMap(idle));
        });
  }

  @Override
  public void disconnected(WorkerSpec worker) {
    workers.computeIfPresent(
        worker.name(),
        (name, entry) ->
            entry.connections > 1 ? new Entry(entry.connections - 1, entry.idle) : null);
  }

  @Override
  public String toString() {
    Map<String, Map<String, Integer>> idle = new TreeMap<>();
    workers.forEach((name, entry) -> idle.put(name, new TreeMap<>(entry.idle)));
    return "WarmWorkers" + idle;
  }

  /**
   * The action's key: the first value of {@value PersistentWorkerProperties#KEY}, or null if it has
   * none.
   */
  static String keyOf(Platform platform) {
    for (Platform.Property property : platform.getPropertiesList()) {
      if (property.getName().equals(PersistentWorkerProperties.KEY)) {
        return property.getValue().isEmpty() ? null : property.getValue();
      }
    }
    return null;
  }

  private static Map<String, Integer> positive(Map<String, Integer> idleByClientKey) {
    Objects.requireNonNull(idleByClientKey, "idleByClientKey");
    Map<String, Integer> idle = new HashMap<>();
    idleByClientKey.forEach(
        (key, count) -> {
          Objects.requireNonNull(key, "client key");
          Objects.requireNonNull(count, "count of " + key);
          if (count > 0 && !key.isEmpty()) {
            idle.put(key, count);
          }
        });
    return Collections.unmodifiableMap(idle);
  }
}
