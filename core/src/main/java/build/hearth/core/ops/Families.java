package build.hearth.core.ops;

import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;

/** Metric families filled at scrape time from statistics that others keep. */
final class Families {
  private Families() {}

  /** A gauge family being filled; one value per label set. */
  static final class Gauges {
    private final GaugeSnapshot.Builder builder;

    Gauges(String name, String help) {
      builder = GaugeSnapshot.builder().name(name).help(help);
    }

    void add(Labels labels, double value) {
      builder.dataPoint(GaugeDataPointSnapshot.builder().labels(labels).value(value).build());
    }

    GaugeSnapshot build() {
      return builder.build();
    }
  }

  /**
   * A counter family being filled; one value per label set. {@code name} is without the {@code
   * _total} that the exposition adds.
   */
  static final class Counters {
    private final CounterSnapshot.Builder builder;

    Counters(String name, String help) {
      builder = CounterSnapshot.builder().name(name).help(help);
    }

    void add(Labels labels, double value) {
      builder.dataPoint(CounterDataPointSnapshot.builder().labels(labels).value(value).build());
    }

    CounterSnapshot build() {
      return builder.build();
    }
  }
}
