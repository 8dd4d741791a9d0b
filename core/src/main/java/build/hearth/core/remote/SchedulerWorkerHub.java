package build.hearth.core.remote;

import build.hearth.api.HearthException;
import build.hearth.api.PoolStats;
import build.hearth.core.ops.WorkerReports;
import build.hearth.core.scheduler.Assignment;
import build.hearth.core.scheduler.Reattached;
import build.hearth.core.scheduler.Scheduler;
import build.hearth.core.scheduler.WarmWorkers;
import build.hearth.core.scheduler.WorkerListener;
import build.hearth.core.scheduler.WorkerSession;
import build.hearth.proto.workerapi.PersistentPoolStats;
import build.hearth.proto.workerapi.SandboxReport;
import build.hearth.spi.worker.ActionOutcome;
import build.hearth.spi.worker.AssignmentListener;
import build.hearth.spi.worker.ExecutionTask;
import build.hearth.spi.worker.RemoteWorker;
import build.hearth.spi.worker.WorkAssignment;
import build.hearth.spi.worker.WorkerHub;
import build.hearth.spi.worker.WorkerSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * A {@link Scheduler} offered to workers in other processes: connects them within the bounds of
 * {@link WorkerLimits}, routes their warm persistent-worker reports to the scheduler's {@link
 * WarmWorkers}, and lists them with their status in the server's {@link WorkerReports} from
 * connection to disconnection.
 *
 * <p>Thread-safe; one per scheduler that a worker API serves.
 */
public final class SchedulerWorkerHub implements WorkerHub {
  private final String schedulerName;
  private final Scheduler<ExecutionTask, ActionOutcome> scheduler;
  private final WarmWorkers warmWorkers; // null when the scheduler routes on no warm processes
  private final WorkerReports reports; // null when the host keeps no reports
  private final int maxAssignmentBytes;

  /**
   * A hub for {@code scheduler}.
   *
   * @param schedulerName the scheduler's name in the configuration, which reports name
   * @param warmWorkers the scheduler's record of warm processes, or null to drop such reports
   * @param reports where connected workers are listed with their status, dated by its clock, or
   *     null to keep none
   */
  public SchedulerWorkerHub(
      String schedulerName,
      Scheduler<ExecutionTask, ActionOutcome> scheduler,
      WarmWorkers warmWorkers,
      WorkerReports reports) {
    this(schedulerName, scheduler, warmWorkers, reports, DEFAULT_MAX_ASSIGNMENT_BYTES);
  }

  /**
   * A hub for {@code scheduler} whose workers are sent assignments of at most {@code
   * maxAssignmentBytes} (a server's {@code workerApi.maxAssignmentSize}); otherwise as {@link
   * #SchedulerWorkerHub(String, Scheduler, WarmWorkers, WorkerReports)}.
   */
  public SchedulerWorkerHub(
      String schedulerName,
      Scheduler<ExecutionTask, ActionOutcome> scheduler,
      WarmWorkers warmWorkers,
      WorkerReports reports,
      int maxAssignmentBytes) {
    if (maxAssignmentBytes < 1) {
      throw new IllegalArgumentException(
          "maxAssignmentBytes must be positive: " + maxAssignmentBytes);
    }
    this.maxAssignmentBytes = maxAssignmentBytes;
    this.schedulerName = Objects.requireNonNull(schedulerName, "schedulerName");
    this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
    this.warmWorkers = warmWorkers;
    this.reports = reports;
  }

  @Override
  public String schedulerName() {
    return schedulerName;
  }

  @Override
  public int maxAssignmentBytes() {
    return maxAssignmentBytes;
  }

  @Override
  public RemoteWorker connect(WorkerSpec spec, AssignmentListener listener) {
    return connect(spec, Set.of(), listener);
  }

  @Override
  public Optional<Duration> reattachGrace() {
    return scheduler.reattachGrace();
  }

  @Override
  public RemoteWorker connect(WorkerSpec spec, Set<String> running, AssignmentListener listener) {
    Objects.requireNonNull(listener, "listener");
    // The transport parsed the spec; a worker is not trusted to keep to the bounds.
    WorkerLimits.check(spec);
    WorkerLimits.checkRunning(spec, running);
    boolean stableIds = scheduler.reattachGrace().isPresent();
    Reattached<ExecutionTask, ActionOutcome> attached =
        scheduler.reattach(
            spec,
            running,
            new WorkerListener<>() {
              @Override
              public void assign(Assignment<ExecutionTask, ActionOutcome> assignment) {
                listener.assign(new Scheduled(assignment, stableIds));
              }

              @Override
              public void cancel(Assignment<ExecutionTask, ActionOutcome> assignment) {
                listener.cancel(new Scheduled(assignment, stableIds));
              }

              @Override
              public void drained() {
                listener.drainAccepted();
              }
            });
    WorkerSession session = attached.session();
    List<WorkAssignment> adopted = new ArrayList<>();
    for (Assignment<ExecutionTask, ActionOutcome> assignment : attached.adopted()) {
      adopted.add(new Scheduled(assignment, stableIds));
    }
    Connected worker = new Connected(session, adopted);
    // Listed from now on, also if it never sends a status (an older worker).
    worker.report(Optional.empty());
    return worker;
  }

  /**
   * One assignment as a worker sees it. Equal to every other view of the same assignment, so a
   * transport can key its bookkeeping on it and find it again when the scheduler cancels.
   */
  private record Scheduled(Assignment<ExecutionTask, ActionOutcome> assignment, boolean stableId)
      implements WorkAssignment {
    @Override
    public String name() {
      return assignment.request().name();
    }

    /** A shared scheduler's request name is the execution's id, the same on every server. */
    @Override
    public Optional<String> id() {
      return stableId ? Optional.of(assignment.request().name()) : Optional.empty();
    }

    @Override
    public ExecutionTask task() {
      return assignment.request().task();
    }

    @Override
    public int attempt() {
      return assignment.attempt();
    }

    @Override
    public boolean complete(ActionOutcome outcome) {
      return assignment.complete(outcome);
    }

    @Override
    public boolean fail(HearthException error) {
      return assignment.fail(error);
    }
  }

  /** A connected worker. Its report and its disconnection exclude each other. */
  private final class Connected implements RemoteWorker {
    private final WorkerSession session;
    private final List<WorkAssignment> adopted;
    private boolean disconnected; // guarded by this
    // What the worker said of its sandbox at registration, repeated in each of its reports.
    private Optional<WorkerReports.Sandbox> sandbox = Optional.empty(); // guarded by this
    private Optional<PoolStats> stats = Optional.empty(); // guarded by this

    Connected(WorkerSession session, List<WorkAssignment> adopted) {
      this.session = session;
      this.adopted = List.copyOf(adopted);
    }

    @Override
    public List<WorkAssignment> adopted() {
      return adopted;
    }

    @Override
    public String name() {
      return session.name();
    }

    @Override
    public boolean reportWarmProcesses(Map<String, Integer> idleByClientKey) {
      WorkerLimits.checkWarmProcesses(session.name(), idleByClientKey);
      return warmWorkers == null || warmWorkers.report(session.name(), idleByClientKey);
    }

    @Override
    public void reportStatus(Optional<PersistentPoolStats> persistentWorkers) {
      persistentWorkers.ifPresent(stats -> WorkerLimits.checkPoolStats(session.name(), stats));
      Optional<PoolStats> stats;
      try {
        stats = persistentWorkers.map(PoolStatsMessages::fromProto);
      } catch (RuntimeException e) {
        throw HearthException.invalidArgument(
            "the persistent-worker statistics of worker '%s' cannot be read: %s",
            session.name(), e.getMessage());
      }
      report(stats);
    }

    @Override
    public void reportSandbox(SandboxReport report) {
      WorkerReports.Sandbox read = SandboxReports.fromProto(session.name(), report);
      synchronized (this) {
        sandbox = Optional.of(read);
        report(stats);
      }
    }

    synchronized void report(Optional<PoolStats> latest) {
      stats = latest;
      if (reports != null && !disconnected) {
        reports.updateRemote(session.name(), schedulerName, latest, sandbox);
      }
    }

    @Override
    public void drain() {
      synchronized (this) {
        // Excluded with disconnect(), so that a worker gone meanwhile is not listed as draining.
        if (disconnected) {
          return;
        }
        if (reports != null) {
          reports.markDraining(session.name());
        }
      }
      session.drain();
    }

    @Override
    public void disconnect() {
      synchronized (this) {
        if (disconnected) {
          return;
        }
        disconnected = true;
        // Before the session ends: a worker that reconnects under this name keeps its new report.
        if (reports != null) {
          reports.remove(session.name());
        }
      }
      session.disconnect();
    }
  }
}
