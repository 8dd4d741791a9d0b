package build.hearth.core.execution;

import build.bazel.remote.execution.v2.ActionResult;
import build.hearth.core.scheduler.Assignment;
import build.hearth.core.scheduler.WorkerListener;
import build.hearth.spi.worker.ActionOutcome;
import build.hearth.spi.worker.ExecutionTask;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/** Helpers for the execution service tests. */
final class ExecutionTesting {
  private ExecutionTesting() {}

  /** A worker that records what the scheduler tells it and answers when the test says so. */
  static final class FakeWorker implements WorkerListener<ExecutionTask, ActionOutcome> {
    final List<Assignment<ExecutionTask, ActionOutcome>> assigned = new CopyOnWriteArrayList<>();
    final List<Assignment<ExecutionTask, ActionOutcome>> cancelled = new CopyOnWriteArrayList<>();

    @Override
    public void assign(Assignment<ExecutionTask, ActionOutcome> assignment) {
      assigned.add(assignment);
    }

    @Override
    public void cancel(Assignment<ExecutionTask, ActionOutcome> assignment) {
      cancelled.add(assignment);
      // As a real worker does: stop, then answer to free the slot.
      assignment.complete(
          new ActionOutcome(
              ActionResult.newBuilder().setExitCode(-1).build(),
              build.hearth.api.StatusCode.CANCELLED,
              "killed"));
    }

    /** The latest assignment; fails if there is none. */
    Assignment<ExecutionTask, ActionOutcome> last() {
      if (assigned.isEmpty()) {
        throw new AssertionError("nothing was assigned");
      }
      return assigned.get(assigned.size() - 1);
    }

    /** Reports that the latest assignment's command exited with {@code exitCode}. */
    boolean exit(int exitCode) {
      return last()
          .complete(
              ActionOutcome.completed(ActionResult.newBuilder().setExitCode(exitCode).build()));
    }
  }

  /**
   * A timer whose delayed tasks run only when the test says so: the re-attach grace, measured in
   * steps rather than seconds.
   */
  static final class ManualTimer extends ScheduledThreadPoolExecutor {
    private final List<Runnable> pending = new ArrayList<>();

    ManualTimer() {
      super(0);
    }

    @Override
    public synchronized ScheduledFuture<?> schedule(Runnable task, long delay, TimeUnit unit) {
      pending.add(task);
      return null;
    }

    /** How many delayed tasks wait. */
    synchronized int pending() {
      return pending.size();
    }

    /** Runs every delayed task scheduled so far, as if their delays had passed. */
    void elapse() {
      List<Runnable> due;
      synchronized (this) {
        due = new ArrayList<>(pending);
        pending.clear();
      }
      due.forEach(Runnable::run);
    }
  }
}
