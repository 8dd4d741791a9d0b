package build.hearth.core.execution;

import static org.assertj.core.api.Assertions.assertThat;

import build.bazel.remote.execution.v2.Action;
import build.bazel.remote.execution.v2.Command;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.ExecuteRequest;
import build.bazel.remote.execution.v2.ExecuteResponse;
import build.hearth.api.Digest;
import build.hearth.api.Execution;
import build.hearth.api.ExecutionService;
import build.hearth.core.Hearth;
import build.hearth.core.execution.ExecutionTesting.FakeWorker;
import build.hearth.core.scheduler.Scheduler;
import build.hearth.spi.worker.ActionOutcome;
import build.hearth.spi.worker.ExecutionTask;
import build.hearth.spi.worker.WorkerSpec;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ExecutionListenerTest {
  private final Hearth hearth = Hearth.newBuilder().build();
  private final Scheduler<ExecutionTask, ActionOutcome> scheduler =
      Scheduler.newBuilder()
          .callbackExecutor(Runnable::run)
          .expiryCheckInterval(Duration.ZERO)
          .build();
  private final List<ExecuteResponse> heard = new CopyOnWriteArrayList<>();

  @AfterEach
  void close() {
    scheduler.close();
    hearth.close();
  }

  private ExecutionService service(boolean throwing) {
    return ExecutionServices.newBuilder()
        .cas(hearth.cas())
        .actionCache(hearth.actionCache())
        .scheduler(scheduler)
        .listener(
            new ExecutionListener() {
              @Override
              public void executionCompleted(Digest actionDigest, ExecuteResponse response) {
                heard.add(response);
                if (throwing) {
                  throw new IllegalStateException("broken listener");
                }
              }
            })
        .build();
  }

  private ExecuteRequest request() {
    Digest command =
        hearth.cas().put(Command.newBuilder().addArguments("true").build().toByteString());
    Digest root = hearth.cas().put(Directory.getDefaultInstance().toByteString());
    Action action =
        Action.newBuilder()
            .setCommandDigest(command.toProto())
            .setInputRootDigest(root.toProto())
            .build();
    Digest digest = hearth.cas().put(action.toByteString());
    return ExecuteRequest.newBuilder().setActionDigest(digest.toProto()).build();
  }

  @Test
  void hearsAMergedExecutionOnceAndACacheAnswerAsItsOwn() {
    ExecutionService service = service(false);
    FakeWorker worker = new FakeWorker();
    scheduler.connect(WorkerSpec.builder("w").slots(2).build(), worker);

    Execution first = service.execute(request());
    Execution merged = service.execute(request());
    // Merged: one assignment for both requests, each with its own operation name.
    assertThat(worker.assigned).hasSize(1);
    assertThat(merged.name()).isNotEqualTo(first.name());
    worker.exit(0);
    service.execute(request());

    assertThat(heard).hasSize(2);
    assertThat(heard.get(0).getCachedResult()).isFalse();
    assertThat(heard.get(1).getCachedResult()).isTrue();
  }

  @Test
  void aThrowingListenerDoesNotDisturbTheExecution() {
    ExecutionService service = service(true);
    FakeWorker worker = new FakeWorker();
    scheduler.connect(WorkerSpec.builder("w").build(), worker);

    Execution execution = service.execute(request());
    worker.exit(3);

    assertThat(execution.result()).isDone();
    assertThat(execution.result().join().getResult().getExitCode()).isEqualTo(3);
    assertThat(heard).hasSize(1);
  }
}
