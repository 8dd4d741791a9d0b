package build.hearth.grpc.reapi;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs tasks one at a time, in the order they were submitted, on a shared pool. One of these per
 * call keeps a stream's messages in order and never lets two threads write to its observer at once,
 * without holding a lock while a message is sent and without a thread of its own.
 *
 * <p>Tasks submitted after the pool shut down are dropped: they can only be messages to calls that
 * the server has already closed. A task that throws is logged and does not stop the tasks after it.
 */
final class ExecutionSerialExecutor implements Executor {
  private static final Logger log = LoggerFactory.getLogger(ExecutionSerialExecutor.class);

  private final Executor pool;
  private final Queue<Runnable> tasks = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean scheduled = new AtomicBoolean();

  ExecutionSerialExecutor(Executor pool) {
    this.pool = pool;
  }

  @Override
  public void execute(Runnable task) {
    tasks.add(task);
    schedule();
  }

  private void schedule() {
    if (!scheduled.compareAndSet(false, true)) {
      return;
    }
    try {
      pool.execute(this::drain);
    } catch (RejectedExecutionException e) {
      log.debug("Dropping {} stream updates: the server is shutting down", tasks.size());
      tasks.clear();
      scheduled.set(false);
    }
  }

  private void drain() {
    try {
      Runnable task;
      while ((task = tasks.poll()) != null) {
        try {
          task.run();
        } catch (RuntimeException e) {
          log.warn("A stream update failed", e);
        }
      }
    } finally {
      scheduled.set(false);
    }
    // A task added after the last poll but before the flag was cleared found the flag still set
    // and left the work to this drain; pick it up.
    if (!tasks.isEmpty()) {
      schedule();
    }
  }
}
