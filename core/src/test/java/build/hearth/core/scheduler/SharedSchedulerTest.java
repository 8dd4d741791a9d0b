package build.hearth.core.scheduler;

import static org.assertj.core.api.Assertions.assertThat;

import build.bazel.remote.execution.v2.Platform;
import build.hearth.spi.worker.WorkerSpec;
import com.google.protobuf.ByteString;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** WORK IN PROGRESS (issue 16): two servers' schedulers over one shared state. */
class SharedSchedulerTest {
  private static final SharedScheduler.Codec<String> TEXT =
      new SharedScheduler.Codec<>() {
        @Override
        public ByteString encode(String value) {
          return ByteString.copyFromUtf8(value);
        }

        @Override
        public String decode(ByteString bytes) {
          return bytes.toStringUtf8();
        }
      };

  private final MemorySchedulerState state = new MemorySchedulerState(Clock.systemUTC(), 1 << 20);
  private final ExecutorService callbacks = Executors.newCachedThreadPool();
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
  private final List<SharedScheduler<String, String>> servers = new CopyOnWriteArrayList<>();

  private SharedScheduler<String, String> server(String id) {
    return server(id, Duration.ofSeconds(20));
  }

  private SharedScheduler<String, String> server(String id, Duration lease) {
    SharedScheduler<String, String> server =
        new SharedScheduler<>(
            state,
            id,
            new PropertyTypes(Map.of("OSFamily", PropertyType.EXACT), null),
            TEXT,
            TEXT,
            Duration.ofMinutes(10),
            3,
            1000,
            Duration.ofSeconds(30),
            lease,
            Duration.ofMinutes(1),
            Clock.systemUTC(),
            callbacks,
            timer,
            Duration.ofMillis(200));
    servers.add(server);
    return server;
  }

  @AfterEach
  void close() {
    servers.forEach(SharedScheduler::close);
    callbacks.shutdownNow();
    timer.shutdownNow();
  }

  private static Platform linux() {
    return Platform.newBuilder()
        .addProperties(Platform.Property.newBuilder().setName("OSFamily").setValue("Linux"))
        .build();
  }

  @Test
  void anActionSubmittedOnOneServerRunsOnAWorkerOfTheOtherAndItsResultComesBack() throws Exception {
    SharedScheduler<String, String> a = server("a");
    SharedScheduler<String, String> b = server("b");
    b.connect(
        new WorkerSpec("w1", Map.of("OSFamily", Set.of("linux")), 1),
        assignment -> assignment.complete("ran " + assignment.request().task()));

    Ticket<String> ticket = a.submit(ActionRequest.of("action", linux(), "echo"));

    assertThat(ticket.result().get(30, TimeUnit.SECONDS)).isEqualTo("ran echo");
  }

  @Test
  void cancellingOnTheSubmittersServerTellsTheWorkerOnTheOther() throws Exception {
    SharedScheduler<String, String> a = server("a");
    SharedScheduler<String, String> b = server("b");
    java.util.concurrent.CountDownLatch assigned = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CountDownLatch cancelled = new java.util.concurrent.CountDownLatch(1);
    b.connect(
        new WorkerSpec("w1", Map.of("OSFamily", Set.of("linux")), 1),
        new WorkerListener<>() {
          @Override
          public void assign(Assignment<String, String> assignment) {
            assigned.countDown();
          }

          @Override
          public void cancel(Assignment<String, String> assignment) {
            cancelled.countDown();
            assignment.fail(
                new build.hearth.api.HearthException(
                    build.hearth.api.StatusCode.CANCELLED, "stopped"));
          }
        });
    Ticket<String> ticket = a.submit(ActionRequest.of("action", linux(), "sleep"));
    assertThat(assigned.await(30, TimeUnit.SECONDS)).isTrue();

    assertThat(ticket.cancel()).isTrue();

    assertThat(cancelled.await(30, TimeUnit.SECONDS)).isTrue();
    assertThat(ticket.stage()).isEqualTo(Ticket.Stage.COMPLETED);
  }

  @Test
  void anActionNoWorkerOfTheServiceCanRunFailsAtOnceWhicheverServerHoldsTheWorkers() {
    SharedScheduler<String, String> a = server("a");
    SharedScheduler<String, String> b = server("b");
    b.connect(new WorkerSpec("w1", Map.of("OSFamily", Set.of("linux")), 1), assignment -> {});

    Ticket<String> ticket =
        a.submit(
            ActionRequest.of(
                "action",
                Platform.newBuilder()
                    .addProperties(
                        Platform.Property.newBuilder().setName("OSFamily").setValue("Windows"))
                    .build(),
                "x"));

    assertThat(ticket.result())
        .failsWithin(Duration.ofSeconds(5))
        .withThrowableThat()
        .withMessageContaining("OSFamily=Windows");
  }

  @Test
  void theActionOfAWorkerThatNeverCameBackRunsOnAnotherOnceItsLeaseLapses() throws Exception {
    SharedScheduler<String, String> a = server("a", Duration.ofMillis(500));
    SharedScheduler<String, String> b = server("b", Duration.ofMillis(500));
    java.util.concurrent.CountDownLatch taken = new java.util.concurrent.CountDownLatch(1);
    WorkerSession lost =
        b.connect(
            new WorkerSpec("lost", Map.of("OSFamily", Set.of("linux")), 1),
            assignment -> taken.countDown());
    Ticket<String> ticket = a.submit(ActionRequest.of("action", linux(), "echo"));
    assertThat(taken.await(30, TimeUnit.SECONDS)).isTrue();

    lost.disconnect();
    a.connect(
        new WorkerSpec("w2", Map.of("OSFamily", Set.of("linux")), 1),
        assignment -> assignment.complete("ran again on w2, attempt " + assignment.attempt()));

    assertThat(ticket.result().get(30, TimeUnit.SECONDS)).isEqualTo("ran again on w2, attempt 2");
  }
}
