package build.hearth.core.execution;

import build.bazel.remote.execution.v2.ActionResult;
import build.hearth.core.scheduler.Assignment;
import build.hearth.core.scheduler.WorkerListener;
import build.hearth.spi.worker.ActionOutcome;
import build.hearth.spi.worker.ExecutionTask;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

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
}
