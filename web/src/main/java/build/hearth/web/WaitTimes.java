package build.hearth.web;

import build.bazel.remote.execution.v2.ExecutedActionMetadata;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * How long the recent actions waited in their scheduler's queue (from {@code queued_timestamp} to
 * {@code worker_start_timestamp}), per scheduler: the median and the 95th percentile over the
 * actions {@link RecentActions} keeps. Computed here from what the pages already hold, so the
 * scheduler keeps no histogram for the UI; an action counts for the scheduler of the worker that
 * ran it. Answers from the action cache never queued and are left out.
 *
 * @param p50 the median wait, formatted, or {@code -} without actions
 * @param p95 the 95th percentile, formatted, or {@code -}
 * @param count how many actions the figures are over
 */
record WaitTimes(String p50, String p95, int count) {
  static final WaitTimes NONE = new WaitTimes("-", "-", 0);

  /**
   * {@return each scheduler's wait times over {@code actions}}
   *
   * @param actions the recent actions, in any order
   * @param schedulerOf each known worker's scheduler; actions of other workers are left out
   */
  static Map<String, WaitTimes> bySchedulerOf(
      List<RecordedAction> actions, Map<String, String> schedulerOf) {
    Map<String, List<Long>> waits = new HashMap<>();
    for (RecordedAction action : actions) {
      if (action.cached()) {
        continue;
      }
      ExecutedActionMetadata m = action.response().getResult().getExecutionMetadata();
      String scheduler = schedulerOf.get(m.getWorker());
      if (scheduler == null
          || !Format.isSet(m.getQueuedTimestamp())
          || !Format.isSet(m.getWorkerStartTimestamp())) {
        continue;
      }
      long nanos =
          Duration.between(
                  Format.instant(m.getQueuedTimestamp()),
                  Format.instant(m.getWorkerStartTimestamp()))
              .toNanos();
      waits.computeIfAbsent(scheduler, s -> new ArrayList<>()).add(Math.max(0, nanos));
    }
    Map<String, WaitTimes> result = new HashMap<>();
    waits.forEach(
        (scheduler, list) -> {
          long[] sorted = list.stream().mapToLong(Long::longValue).toArray();
          Arrays.sort(sorted);
          result.put(
              scheduler,
              new WaitTimes(
                  Format.duration(Duration.ofNanos(percentile(sorted, 50))),
                  Format.duration(Duration.ofNanos(percentile(sorted, 95))),
                  sorted.length));
        });
    return result;
  }

  /** The nearest-rank percentile of a sorted, non-empty array. */
  static long percentile(long[] sorted, int percent) {
    int rank = (int) Math.ceil(percent / 100.0 * sorted.length);
    return sorted[Math.max(0, rank - 1)];
  }
}
