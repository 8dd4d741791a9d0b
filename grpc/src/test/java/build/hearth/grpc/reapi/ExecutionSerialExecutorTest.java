package build.hearth.grpc.reapi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ExecutionSerialExecutorTest {
  private final ExecutorService pool = Executors.newFixedThreadPool(4);

  @AfterEach
  void stop() throws InterruptedException {
    pool.shutdownNow();
    assertThat(pool.awaitTermination(5, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void runsTasksOneAtATimeInEachProducersOrder() throws InterruptedException {
    ExecutionSerialExecutor serial = new ExecutionSerialExecutor(pool);
    int producers = 4;
    int perProducer = 2_000;
    // Not thread-safe on purpose: the executor must keep tasks apart.
    List<int[]> seen = new ArrayList<>();
    AtomicInteger running = new AtomicInteger();
    AtomicInteger overlaps = new AtomicInteger();
    CountDownLatch done = new CountDownLatch(producers * perProducer);
    Thread[] threads = new Thread[producers];
    for (int p = 0; p < producers; p++) {
      int producer = p;
      threads[p] =
          new Thread(
              () -> {
                for (int i = 0; i < perProducer; i++) {
                  int index = i;
                  serial.execute(
                      () -> {
                        if (running.incrementAndGet() > 1) {
                          overlaps.incrementAndGet();
                        }
                        seen.add(new int[] {producer, index});
                        running.decrementAndGet();
                        done.countDown();
                      });
                }
              });
      threads[p].start();
    }
    for (Thread thread : threads) {
      thread.join();
    }
    assertThat(done.await(10, TimeUnit.SECONDS)).isTrue();

    assertThat(overlaps.get()).isZero();
    int[] next = new int[producers];
    synchronized (seen) {
      assertThat(seen).hasSize(producers * perProducer);
      for (int[] entry : seen) {
        assertThat(entry[1]).as("task of producer %d", entry[0]).isEqualTo(next[entry[0]]++);
      }
    }
  }

  @Test
  void aFailingTaskDoesNotStopTheOnesAfterIt() throws InterruptedException {
    ExecutionSerialExecutor serial = new ExecutionSerialExecutor(pool);
    CountDownLatch ran = new CountDownLatch(1);
    serial.execute(
        () -> {
          throw new IllegalStateException("expected by the test");
        });
    serial.execute(ran::countDown);
    assertThat(ran.await(5, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void tasksForAStoppedPoolAreDropped() {
    pool.shutdown();
    ExecutionSerialExecutor serial = new ExecutionSerialExecutor(pool);
    assertThatCode(() -> serial.execute(() -> {})).doesNotThrowAnyException();
    assertThatCode(() -> serial.execute(() -> {})).doesNotThrowAnyException();
  }
}
