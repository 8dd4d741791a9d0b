package build.hearth.server;

import build.bazel.remote.execution.v2.ActionResult;
import build.hearth.core.execution.ActionRunner;
import build.hearth.core.execution.Cancellation;
import build.hearth.spi.worker.ActionOutcome;
import build.hearth.spi.worker.ExecutionTask;
import com.google.protobuf.ByteString;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A runner for the tests of several servers as one service: counts each command's runs (the command
 * is its first argument) and the runs that were cancelled, waits while {@link #hold()} is in force
 * (at most a minute), and succeeds printing "ran COMMAND". One instance may serve several workers,
 * so that the counts are the service's.
 */
final class CountingRunner implements ActionRunner {
  private final Map<String, AtomicInteger> runs = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> cancelled = new ConcurrentHashMap<>();
  private volatile CountDownLatch release = new CountDownLatch(0);

  /** From now on, runs wait until {@link #release()}. */
  void hold() {
    release = new CountDownLatch(1);
  }

  /** Lets the waiting runs, and later ones, finish. */
  void release() {
    release.countDown();
  }

  /** How often each command ran. */
  Map<String, AtomicInteger> runs() {
    return runs;
  }

  /** How often each command's run was cancelled while it waited. */
  Map<String, AtomicInteger> cancelled() {
    return cancelled;
  }

  @Override
  public ActionOutcome run(ExecutionTask task, Cancellation cancellation) {
    String command = task.command().getArguments(0);
    runs.computeIfAbsent(command, c -> new AtomicInteger()).incrementAndGet();
    try {
      release.await(60, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (cancellation.isCancelled()) {
      cancelled.computeIfAbsent(command, c -> new AtomicInteger()).incrementAndGet();
    }
    return ActionOutcome.completed(
        ActionResult.newBuilder()
            .setExitCode(0)
            .setStdoutRaw(ByteString.copyFromUtf8("ran " + command))
            .build());
  }

  @Override
  public void close() {}
}
