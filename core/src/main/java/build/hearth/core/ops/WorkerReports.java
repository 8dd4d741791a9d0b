package build.hearth.core.ops;

import build.hearth.api.PoolStats;
import build.hearth.core.sandbox.SandboxCapabilities;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.function.Supplier;

/**
 * What each worker last reported about itself, by worker name: the statistics of its
 * persistent-worker pool, and what its sandbox does on its machine. In-process workers update it
 * directly; workers in other processes send their reports over the worker API. The metrics and the
 * admin endpoint read it.
 *
 * <p>Thread-safe; one per server (two servers in one JVM have two).
 */
public final class WorkerReports {
  private final Clock clock;
  private final ConcurrentMap<String, Report> reports = new ConcurrentHashMap<>();
  private final ConcurrentMap<String, Live> live = new ConcurrentHashMap<>();
  // Remote workers that said they are stopping; see markDraining.
  private final Set<String> draining = ConcurrentHashMap.newKeySet();

  /**
   * Reports whose in-process workers' snapshots are dated by {@code clock}, the server's.
   *
   * @param clock when an in-process worker's report is taken, read at each {@link #snapshot()}
   */
  public WorkerReports(Clock clock) {
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  private record Live(
      String scheduler, Supplier<Optional<PoolStats>> stats, Optional<Sandbox> sandbox) {}

  /**
   * What a worker's sandbox does on its machine, as the worker found it at start: for the admin
   * endpoint, which shows it as the worker said it, so the parts are labels rather than an enum (a
   * newer worker may know parts this server does not).
   *
   * @param mode the configured mode: {@code required}, {@code optional} or {@code off}
   * @param available the labels of the parts in force, in the worker's order
   * @param refused each refused part's label with the reason, in the worker's order
   * @param cgroups {@code v1}, {@code v2} or {@code none}
   * @param actionUser who actions run as
   */
  public record Sandbox(
      String mode,
      List<String> available,
      Map<String, String> refused,
      String cgroups,
      String actionUser) {
    public Sandbox {
      Objects.requireNonNull(mode, "mode");
      available = List.copyOf(available);
      refused = Collections.unmodifiableMap(new LinkedHashMap<>(refused));
      Objects.requireNonNull(cgroups, "cgroups");
      Objects.requireNonNull(actionUser, "actionUser");
    }

    /** The report of an in-process worker's sandbox. */
    public static Sandbox of(SandboxCapabilities capabilities) {
      List<String> available = new ArrayList<>();
      capabilities.available().forEach(part -> available.add(part.label()));
      Map<String, String> refused = new LinkedHashMap<>();
      capabilities.refused().forEach((part, why) -> refused.put(part.label(), why));
      return new Sandbox(
          capabilities.mode().name().toLowerCase(Locale.ROOT),
          available,
          refused,
          capabilities.cgroups(),
          capabilities.actionUser());
    }
  }

  /**
   * One worker's report.
   *
   * @param worker the worker's name
   * @param scheduler the scheduler it serves
   * @param remote whether it runs in another process
   * @param reportedAt when the report arrived
   * @param persistentWorkers its pool's statistics; empty when it runs no persistent workers
   * @param sandbox what its sandbox does; empty when it did not say (a worker older than the
   *     sandbox)
   * @param draining whether it said it is stopping: it finishes what it runs and gets nothing new
   */
  public record Report(
      String worker,
      String scheduler,
      boolean remote,
      Instant reportedAt,
      Optional<PoolStats> persistentWorkers,
      Optional<Sandbox> sandbox,
      boolean draining) {
    public Report {
      Objects.requireNonNull(worker, "worker");
      Objects.requireNonNull(scheduler, "scheduler");
      Objects.requireNonNull(reportedAt, "reportedAt");
      Objects.requireNonNull(persistentWorkers, "persistentWorkers");
      Objects.requireNonNull(sandbox, "sandbox");
    }

    /** A report of a worker that is not draining. */
    public Report(
        String worker,
        String scheduler,
        boolean remote,
        Instant reportedAt,
        Optional<PoolStats> persistentWorkers,
        Optional<Sandbox> sandbox) {
      this(worker, scheduler, remote, reportedAt, persistentWorkers, sandbox, false);
    }

    /** This report, marked as of a draining worker. */
    Report asDraining() {
      return new Report(worker, scheduler, remote, reportedAt, persistentWorkers, sandbox, true);
    }

    /** A report that says nothing of the worker's sandbox. */
    public Report(
        String worker,
        String scheduler,
        boolean remote,
        Instant reportedAt,
        Optional<PoolStats> persistentWorkers) {
      this(worker, scheduler, remote, reportedAt, persistentWorkers, Optional.empty());
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
    updateRemote(worker, scheduler, persistentWorkers, Optional.empty());
  }

  /**
   * Records what a worker in another process reported just now, as {@link #updateRemote(String,
   * String, Optional)} does, with what its sandbox does (which it said when it registered).
   *
   * @param sandbox its sandbox; empty when it did not say
   */
  public void updateRemote(
      String worker,
      String scheduler,
      Optional<PoolStats> persistentWorkers,
      Optional<Sandbox> sandbox) {
    update(new Report(worker, scheduler, true, clock.instant(), persistentWorkers, sandbox));
  }

  /**
   * Registers an in-process worker, whose statistics are read when a snapshot is taken rather than
   * sent.
   */
  public void registerLive(
      String worker, String scheduler, Supplier<Optional<PoolStats>> persistentWorkers) {
    live.put(worker, new Live(scheduler, persistentWorkers, Optional.empty()));
  }

  /**
   * Registers an in-process worker as {@link #registerLive(String, String, Supplier)} does, with
   * what its sandbox does, found when it started.
   */
  public void registerLive(
      String worker,
      String scheduler,
      Supplier<Optional<PoolStats>> persistentWorkers,
      Sandbox sandbox) {
    live.put(
        worker,
        new Live(scheduler, persistentWorkers, Optional.of(Objects.requireNonNull(sandbox))));
  }

  /**
   * Records that a worker said it is stopping: it finishes what it runs and gets nothing new. Shown
   * until the worker is {@linkplain #remove removed}.
   */
  public void markDraining(String worker) {
    draining.add(worker);
  }

  /** Whether {@code worker} said it is stopping; see {@link #markDraining}. */
  public boolean isDraining(String worker) {
    return draining.contains(worker);
  }

  /** Forgets a worker that left. */
  public void remove(String worker) {
    reports.remove(worker);
    live.remove(worker);
    draining.remove(worker);
  }

  /**
   * Every worker's last report (an in-process worker's as of now, on the clock this was made with),
   * by name. A snapshot.
   */
  public Map<String, Report> snapshot() {
    Map<String, Report> all = new TreeMap<>(reports);
    for (String worker : draining) {
      all.computeIfPresent(worker, (name, report) -> report.asDraining());
    }
    Instant now = clock.instant();
    live.forEach(
        (worker, source) ->
            all.put(
                worker,
                new Report(
                    worker,
                    source.scheduler(),
                    false,
                    now,
                    source.stats().get(),
                    source.sandbox())));
    return all;
  }
}
