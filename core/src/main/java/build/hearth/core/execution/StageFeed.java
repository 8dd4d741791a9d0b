package build.hearth.core.execution;

import build.bazel.remote.execution.v2.ExecutionStage;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries the stages of one execution to one listener on the listener's executor, one call at a
 * time and in the order they were {@linkplain #offer offered}, even when the executor is a pool
 * that would otherwise run two tasks at once. Stages are offered under the execution's lock, which
 * fixes their order, and {@linkplain #schedule scheduled} after it is released, so a direct
 * executor never calls the listener with that lock held.
 *
 * <p>Thread-safe.
 */
final class StageFeed {
  private static final Logger logger = LoggerFactory.getLogger(StageFeed.class);

  private final String execution;
  private final Consumer<ExecutionStage.Value> listener;
  private final Executor executor;
  private final Queue<ExecutionStage.Value> pending = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean scheduled = new AtomicBoolean();

  StageFeed(String execution, Consumer<ExecutionStage.Value> listener, Executor executor) {
    this.execution = execution;
    this.listener = listener;
    this.executor = executor;
  }

  void offer(ExecutionStage.Value stage) {
    pending.add(stage);
  }

  /** Makes sure a delivery will see every stage offered so far. */
  void schedule() {
    if (pending.isEmpty() || !scheduled.compareAndSet(false, true)) {
      return;
    }
    try {
      executor.execute(this::drain);
    } catch (RejectedExecutionException e) {
      scheduled.set(false);
      pending.clear();
      logger.debug("dropped stage changes of {}: the listener's executor refused them", execution);
    }
  }

  private void drain() {
    while (true) {
      ExecutionStage.Value stage;
      while ((stage = pending.poll()) != null) {
        try {
          listener.accept(stage);
        } catch (RuntimeException e) {
          logger.warn("a stage listener of {} failed on stage {}", execution, stage, e);
        }
      }
      scheduled.set(false);
      // A stage offered between the last poll and the reset found the feed still scheduled and
      // returned; deliver it here unless another thread already took over.
      if (pending.isEmpty() || !scheduled.compareAndSet(false, true)) {
        return;
      }
    }
  }
}
