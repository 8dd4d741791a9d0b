package build.hearth.spi.scheduler;

import com.google.protobuf.ByteString;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * An execution waiting in the queue, or the queue entry a claim was made from.
 *
 * <p>The submitter fills in the first six components with {@link #of}; the state fills in the rest
 * when it queues the entry and each time it queues it again after a worker lost it.
 *
 * @param executionId unique among the state's executions; names the execution in every call
 * @param queueKey which queue: executions with the same platform requirements share one, and a
 *     worker claims from the queues whose key it meets
 * @param actionKey what identical executions share (the action digest), so that a second submission
 *     joins the first while it is in flight; empty for an execution that must not be merged
 * @param priority lower runs sooner, as REAPI's {@code ExecutionPolicy.priority}
 * @param timeout how long a worker may hold a claim before it is overdue (plus the grace given to
 *     {@link SchedulerState#claim}); zero for no deadline
 * @param task what the worker receives, opaque to the state
 * @param attempt 1 for the first run, one more each time the execution was queued again
 * @param lostWith the workers that lost it, oldest first
 * @param enqueuedAt when it entered the queue, the last time
 * @param requeued whether it was queued again after losing a worker; such entries go before others
 *     of their priority
 */
public record QueuedExecution(
    String executionId,
    String queueKey,
    String actionKey,
    int priority,
    Duration timeout,
    ByteString task,
    int attempt,
    List<String> lostWith,
    Instant enqueuedAt,
    boolean requeued) {
  /**
   * Checks the components; collections are copied.
   *
   * @param executionId unique among the state's executions; names the execution in every call
   * @param queueKey which queue: executions with the same platform requirements share one, and a
   *     worker claims from the queues whose key it meets
   * @param actionKey what identical executions share (the action digest), so that a second
   *     submission joins the first while it is in flight; empty for an execution that must not be
   *     merged
   * @param priority lower runs sooner, as REAPI's {@code ExecutionPolicy.priority}
   * @param timeout how long a worker may hold a claim before it is overdue (plus the grace given to
   *     {@link SchedulerState#claim}); zero for no deadline
   * @param task what the worker receives, opaque to the state
   * @param attempt 1 for the first run, one more each time the execution was queued again
   * @param lostWith the workers that lost it, oldest first
   * @param enqueuedAt when it entered the queue, the last time
   * @param requeued whether it was queued again after losing a worker; such entries go before
   *     others of their priority
   */
  public QueuedExecution {
    Objects.requireNonNull(executionId, "executionId");
    Objects.requireNonNull(queueKey, "queueKey");
    Objects.requireNonNull(actionKey, "actionKey");
    Objects.requireNonNull(timeout, "timeout");
    Objects.requireNonNull(task, "task");
    Objects.requireNonNull(enqueuedAt, "enqueuedAt");
    lostWith = List.copyOf(lostWith);
    if (executionId.isEmpty()) {
      throw new IllegalArgumentException("executionId is empty");
    }
    if (timeout.isNegative()) {
      throw new IllegalArgumentException("timeout must not be negative: " + timeout);
    }
    if (attempt < 1) {
      throw new IllegalArgumentException("attempt must be at least 1: " + attempt);
    }
  }

  /**
   * A new execution as its submitter describes it, for {@link SchedulerState#enqueue}: the first
   * attempt, lost with no worker yet.
   *
   * @param executionId unique among the state's executions
   * @param queueKey the queue of its platform requirements
   * @param actionKey what identical executions share, or empty
   * @param priority lower runs sooner
   * @param timeout how long a worker may hold it, zero for no deadline
   * @param task what the worker receives
   * @param now when it is queued
   * @return the entry
   */
  public static QueuedExecution of(
      String executionId,
      String queueKey,
      String actionKey,
      int priority,
      Duration timeout,
      ByteString task,
      Instant now) {
    return new QueuedExecution(
        executionId, queueKey, actionKey, priority, timeout, task, 1, List.of(), now, false);
  }

  /**
   * This entry as it is queued again after {@code worker} lost it: first among its priority, queued
   * now, and, when the loss counts, one attempt more with the worker added to {@code lostWith}.
   *
   * @param worker the worker that lost it
   * @param countAttempt false for a claim the worker never received
   * @param now when it is queued again
   * @return the new entry
   */
  public QueuedExecution requeuedAfter(String worker, boolean countAttempt, Instant now) {
    List<String> lost = lostWith;
    if (countAttempt) {
      lost = new ArrayList<>(lostWith);
      lost.add(worker);
    }
    return new QueuedExecution(
        executionId,
        queueKey,
        actionKey,
        priority,
        timeout,
        task,
        countAttempt ? attempt + 1 : attempt,
        lost,
        now,
        true);
  }
}
