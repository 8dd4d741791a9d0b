package build.hearth.core.ops;

import build.hearth.core.ops.Families.Counters;
import build.hearth.core.ops.Families.Gauges;
import build.hearth.core.scheduler.Scheduler;
import build.hearth.core.scheduler.SchedulerStats;
import build.hearth.core.storage.LocalTierStats;
import build.hearth.spi.storage.ActionCacheStore;
import build.hearth.spi.storage.BlobStore;
import build.hearth.spi.storage.StoreStats;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The store and scheduler series, read from each source's statistics once per scrape so that the
 * series of one source agree with each other.
 */
final class ComponentCollector implements MultiCollector {
  private static final Logger logger = LoggerFactory.getLogger(Metrics.class);

  private final Map<String, BlobStore> blobStores;
  private final Map<String, ActionCacheStore> actionCacheStores;
  // Schedulers are built after the metrics (they take its listener), so they are added later.
  private final Map<String, Scheduler<?, ?>> schedulers = new ConcurrentSkipListMap<>();

  ComponentCollector(
      Map<String, BlobStore> blobStores, Map<String, ActionCacheStore> actionCacheStores) {
    // Sorted, so that the series come in the same order at every scrape; never changed after.
    this.blobStores = new TreeMap<>(blobStores);
    this.actionCacheStores = new TreeMap<>(actionCacheStores);
  }

  void addScheduler(String name, Scheduler<?, ?> scheduler) {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(scheduler, "scheduler");
    if (schedulers.putIfAbsent(name, scheduler) != null) {
      throw new IllegalArgumentException("the scheduler '" + name + "' is registered twice");
    }
  }

  @Override
  public MetricSnapshots collect() {
    Gauges casSize = new Gauges("hearth_cas_size_bytes", "Bytes of blobs the CAS store holds.");
    Gauges casEntries = new Gauges("hearth_cas_entries", "Blobs the CAS store holds.");
    Gauges casCapacity =
        new Gauges(
            "hearth_cas_capacity_bytes",
            "Bytes the CAS store keeps before it evicts; +Inf if unbounded.");
    Counters casEvictions =
        new Counters(
            "hearth_cas_evictions", "Blobs the CAS store evicted to stay within its capacity.");
    Gauges localSize =
        new Gauges(
            "hearth_cas_local_size_bytes",
            "Bytes of blobs the local tier of a tiered CAS store holds on this server.");
    Gauges localCapacity =
        new Gauges(
            "hearth_cas_local_capacity_bytes",
            "Bytes the local tier of a tiered CAS store keeps before it evicts.");
    Counters localEvictions =
        new Counters(
            "hearth_cas_local_evictions",
            "Blobs the local tier of a tiered CAS store evicted; the shared tier keeps them.");
    Counters localFailures =
        new Counters(
            "hearth_cas_local_failures",
            "Writes, fills, lookups and reads the local tier of a tiered CAS store failed; the"
                + " shared tier answered instead.");
    blobStores.forEach(
        (name, store) -> {
          if (store instanceof LocalTierStats tiers) {
            StoreStats local = read("CAS store's local tier", name, tiers::localStats);
            if (local != null) {
              Labels labels = Labels.of("store", name);
              localSize.add(labels, local.sizeBytes());
              localCapacity.add(
                  labels,
                  local.capacityBytes() == Long.MAX_VALUE
                      ? Double.POSITIVE_INFINITY
                      : local.capacityBytes());
              localEvictions.add(labels, local.evictions());
              localFailures.add(labels, tiers.localFailures());
            }
          }
          StoreStats stats = read("CAS store", name, store::stats);
          if (stats == null) {
            return;
          }
          Labels labels = Labels.of("store", name);
          casSize.add(labels, stats.sizeBytes());
          casEntries.add(labels, stats.entries());
          casCapacity.add(
              labels,
              stats.capacityBytes() == Long.MAX_VALUE
                  ? Double.POSITIVE_INFINITY
                  : stats.capacityBytes());
          casEvictions.add(labels, stats.evictions());
        });

    Gauges acSize =
        new Gauges("hearth_action_cache_size_bytes", "Bytes of results the action cache holds.");
    Gauges acEntries =
        new Gauges("hearth_action_cache_entries", "Results the action cache store holds.");
    actionCacheStores.forEach(
        (name, store) -> {
          StoreStats stats = read("action cache store", name, store::stats);
          if (stats == null) {
            return;
          }
          Labels labels = Labels.of("store", name);
          acSize.add(labels, stats.sizeBytes());
          acEntries.add(labels, stats.entries());
        });

    Gauges queued = new Gauges("hearth_scheduler_queued_actions", "Actions waiting for a worker.");
    Gauges workers = new Gauges("hearth_scheduler_workers", "Workers connected to the scheduler.");
    Gauges slots =
        new Gauges("hearth_scheduler_slots", "Slots (actions at once) of the connected workers.");
    Gauges busySlots =
        new Gauges("hearth_scheduler_busy_slots", "Slots of the connected workers that are taken.");
    Counters requeued =
        new Counters(
            "hearth_scheduler_requeued_actions",
            "Actions queued again after their worker was lost or held them past their deadline.");
    Counters overdue =
        new Counters(
            "hearth_scheduler_overdue_assignments",
            "Assignments taken back from a worker that held them past the action's timeout plus"
                + " the scheduler's assignmentGrace.");
    schedulers.forEach(
        (name, scheduler) -> {
          SchedulerStats stats = read("scheduler", name, scheduler::stats);
          if (stats == null) {
            return;
          }
          Labels labels = Labels.of("scheduler", name);
          queued.add(labels, stats.queued());
          workers.add(labels, stats.workers());
          slots.add(labels, stats.slots());
          busySlots.add(labels, stats.busySlots());
          requeued.add(labels, stats.requeued());
          overdue.add(labels, stats.overdue());
        });

    return MetricSnapshots.of(
        casSize.build(),
        casEntries.build(),
        casCapacity.build(),
        casEvictions.build(),
        localSize.build(),
        localCapacity.build(),
        localEvictions.build(),
        localFailures.build(),
        acSize.build(),
        acEntries.build(),
        queued.build(),
        workers.build(),
        slots.build(),
        busySlots.build(),
        requeued.build(),
        overdue.build());
  }

  private static <S> S read(String what, String name, Supplier<S> stats) {
    try {
      return stats.get();
    } catch (RuntimeException e) {
      logger.warn("reading the statistics of {} '{}' for /metrics failed", what, name, e);
      return null;
    }
  }
}
