package build.hearth.core.ops;

import build.hearth.api.PoolStats;
import java.time.Clock;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.function.Supplier;

/**
 * What each worker last reported about itself, by worker name: the statistics of its
 * persistent-worker pool. In-process workers update it directly; workers in other processes send
 * their reports over the worker API. The metrics and the admin endpoint read it.
 *
 * <p>Thread-safe; one per server (two servers in one JVM have two).
 */
public final class WorkerReports {
  private final Clock clock;
  private final ConcurrentMap<String, Report> reports = new ConcurrentHashMap<>();
  private final ConcurrentMap<String, Live> live = new ConcurrentHashMap<>();

  /**
   * Reports whose in-process workers' snapshots are dated by {@code clock}, the server's.
   *
   * @param clock when an in-process worker's report is taken, read at each {@link #snapshot()}
   */
  public WorkerReports(Clock clock) {
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  private record Live(String scheduler, Supplier<Optional<PoolStats>> stats) {}

  /**
   * One worker's report.
   *
   * @param worker the worker's name
   * @param scheduler the scheduler it serves
   * @param remote whether it runs in another process
   * @param reportedAt when the report arrived
   * @param persistentWorkers its pool's statistics; empty when it runs no persistent workers
   */
  public record Report(
      String worker,
      String scheduler,
      boolean remote,
      Instant reportedAt,
      Optional<PoolStats> persistentWorkers) {
    public Report {
      Objects.requireNonNull(worker, "worker");
      Objects.requireNonNull(scheduler, "scheduler");
      Objects.requireNonNull(reportedAt, "reportedAt");
      Objects.requireNonNull(persistentWorkers, "persistentWorkers");
    }
  }

  /** Records {@code report}, replacing the worker's previous one. */
  public void update(Report report) {
    reports.put(report.worker(), report);
  }

  /**
   * Records what a worker in another process reported just now, dated by this object's clock,
   * replacing its previous report.
   *
   * @param persistentWorkers its pool's statistics; empty when it runs no persistent workers
   */
  public void updateRemote(String worker, String scheduler, Optional<PoolStats> persistentWorkers) {
    update(new Report(worker, scheduler, true, clock.instant(), persistentWorkers));
  }

  /**
   * Registers an in-process worker, whose statistics are read when a snapshot is taken rather than
   * sent.
   */
  public void registerLive(
      String worker, String scheduler, Supplier<Optional<PoolStats>> persistentWorkers) {
    live.put(worker, new Live(scheduler, persistentWorkers));
  }

  /** Forgets a worker that left. */
  public void remove(String worker) {
    reports.remove(worker);
    live.remove(worker);
  }

  /**
   * Every worker's last report (an in-process worker's as of now, on the clock this was made with),
   * by name. A snapshot.
   */
  public Map<String, Report> snapshot() {
    Map<String, Report> all = new TreeMap<>(reports);
    Instant now = clock.instant();
    live.forEach(
        (worker, source) ->
            all.put(
                worker, new Report(worker, source.scheduler(), false, now, source.stats().get())));
    return all;
  }
}
