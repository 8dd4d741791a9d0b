package build.hearth.core.scheduler;

import static org.assertj.core.api.Assertions.assertThat;

import build.bazel.remote.execution.v2.Platform;
import build.hearth.spi.scheduler.SchedulerState;
import build.hearth.spi.worker.WorkerSpec;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Several servers' schedulers over one shared state (the memory type here; the contract suite in
 * hearth-testing holds the Redis type to the same behaviour, and the e2e tests run these schedulers
 * on Redis).
 */
class SharedSchedulerTest {
  private static final StateCodec<String> TEXT = TextCodec.TEXT;

  private final MemorySchedulerState state = new MemorySchedulerState(Clock.systemUTC(), 1 << 20);
  private final ExecutorService callbacks = Executors.newCachedThreadPool();
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
  private final List<Scheduler<String, String>> servers = new CopyOnWriteArrayList<>();

  private Scheduler<String, String> server(String id) {
    return server(id, state, Duration.ofSeconds(20), ResultHook.none());
  }

  private Scheduler<String, String> server(
      String id, SchedulerState shared, Duration lease, ResultHook<String, String> hook) {
    return server(id, shared, lease, hook, Duration.ofMillis(200), worker -> Set.of());
  }

  private Scheduler<String, String> server(
      String id,
      SchedulerState shared,
      Duration lease,
      ResultHook<String, String> hook,
      Duration tick,
      Function<String, Set<String>> warmKeys) {
    Scheduler<String, String> server =
        Scheduler.newBuilder()
            .name("main")
            .propertyType("OSFamily", PropertyType.EXACT)
            .maxQueueTime(Duration.ofMinutes(10))
            .callbackExecutor(callbacks)
            .timer(timer)
            .expiryCheckInterval(tick)
            .build(
                new SharedState<>(
                    shared, id, TEXT, TEXT, hook, lease, Duration.ofMinutes(1), warmKeys));
    servers.add(server);
    return server;
  }

  private static Platform persistent(String key) {
    return linux().toBuilder()
        .addProperties(
            Platform.Property.newBuilder().setName(PersistentWorkerProperties.KEY).setValue(key))
        .build();
  }

  /** A server whose workers named warm* hold idle processes of {@code javac-key}. */
  private Scheduler<String, String> warmServer(String id, Duration tick) {
    return server(
        id,
        state,
        Duration.ofSeconds(20),
        ResultHook.none(),
        tick,
        worker -> worker.startsWith("warm") ? Set.of("javac-key") : Set.of());
  }

  @AfterEach
  void close() {
    servers.forEach(Scheduler::close);
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
    Scheduler<String, String> a = server("a");
    Scheduler<String, String> b = server("b");
    b.connect(
        new WorkerSpec("w1", Map.of("OSFamily", Set.of("linux")), 1),
        assignment -> assignment.complete("ran " + assignment.request().task()));

    Ticket<String> ticket = a.submit(ActionRequest.of("action", linux(), "echo"));

    assertThat(ticket.result().get(30, TimeUnit.SECONDS)).isEqualTo("ran echo");
  }

  @Test
  void cancellingOnTheSubmittersServerTellsTheWorkerOnTheOther() throws Exception {
    Scheduler<String, String> a = server("a");
    Scheduler<String, String> b = server("b");
    CountDownLatch assigned = new CountDownLatch(1);
    CountDownLatch cancelled = new CountDownLatch(1);
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
    Scheduler<String, String> a = server("a");
    Scheduler<String, String> b = server("b");
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
    Scheduler<String, String> a = server("a", state, Duration.ofMillis(500), ResultHook.none());
    Scheduler<String, String> b = server("b", state, Duration.ofMillis(500), ResultHook.none());
    CountDownLatch taken = new CountDownLatch(1);
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

  @Test
  void identicalActionsSubmittedThroughTwoServersRunOnceAndBothGetTheResult() throws Exception {
    Scheduler<String, String> a = server("a");
    Scheduler<String, String> b = server("b");
    AtomicInteger runs = new AtomicInteger();
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch assigned = new CountDownLatch(1);
    b.connect(
        new WorkerSpec("w1", Map.of("OSFamily", Set.of("linux")), 4),
        assignment -> {
          runs.incrementAndGet();
          assigned.countDown();
          callbacks.execute(
              () -> {
                awaitQuietly(release);
                assignment.complete("ran " + assignment.request().task());
              });
        });

    Ticket<String> first = a.submit(ActionRequest.of("op-a", linux(), "cc").withMergeKey("d1"));
    assertThat(assigned.await(30, TimeUnit.SECONDS)).isTrue();
    Ticket<String> second = b.submit(ActionRequest.of("op-b", linux(), "cc").withMergeKey("d1"));
    release.countDown();

    assertThat(first.result().get(30, TimeUnit.SECONDS)).isEqualTo("ran cc");
    assertThat(second.result().get(30, TimeUnit.SECONDS)).isEqualTo("ran cc");
    assertThat(runs).hasValue(1);
  }

  @Test
  void anotherServerFollowsAnOperationByItsNameUntilItsResult() throws Exception {
    Scheduler<String, String> a = server("a");
    Scheduler<String, String> b = server("b");
    Ticket<String> submitted =
        a.submit(ActionRequest.of("operations/1", linux(), "cc").withMergeKey("d1"));

    Ticket<String> followed = b.follow("operations/1").orElseThrow();
    assertThat(followed.stage()).isEqualTo(Ticket.Stage.QUEUED);
    assertThat(followed.mergeKey()).isEqualTo("d1");
    assertThat(b.follow("operations/unknown")).isEmpty();
    a.connect(
        new WorkerSpec("w1", Map.of("OSFamily", Set.of("linux")), 1),
        assignment -> assignment.complete("ran"));

    assertThat(followed.result().get(30, TimeUnit.SECONDS)).isEqualTo("ran");
    assertThat(submitted.result().get(30, TimeUnit.SECONDS)).isEqualTo("ran");
  }

  @Test
  void aServerThatClosesLeavesItsQueuedActionsToTheService() throws Exception {
    Scheduler<String, String> a = server("a");
    Scheduler<String, String> b = server("b");
    Ticket<String> submitted =
        a.submit(ActionRequest.of("operations/1", linux(), "cc").withMergeKey("d1"));

    a.close();

    assertThat(submitted.result())
        .failsWithin(Duration.ofSeconds(5))
        .withThrowableThat()
        .withMessageContaining("wait for the operation on another server");
    Ticket<String> followed = b.follow("operations/1").orElseThrow();
    b.connect(
        new WorkerSpec("w1", Map.of("OSFamily", Set.of("linux")), 1),
        assignment -> assignment.complete("ran " + assignment.request().task()));
    assertThat(followed.result().get(30, TimeUnit.SECONDS)).isEqualTo("ran cc");
  }

  @Test
  void theResultHookRunsOnTheServerThatHeardTheWorker() throws Exception {
    List<String> hookedOn = new CopyOnWriteArrayList<>();
    Scheduler<String, String> a =
        server(
            "a",
            state,
            Duration.ofSeconds(20),
            (task, enqueuedAt, result) -> {
              hookedOn.add("a");
              return result;
            });
    Scheduler<String, String> b =
        server(
            "b",
            state,
            Duration.ofSeconds(20),
            (task, enqueuedAt, result) -> {
              hookedOn.add("b");
              return result + " (stored for " + task + ")";
            });
    b.connect(
        new WorkerSpec("w1", Map.of("OSFamily", Set.of("linux")), 1),
        assignment -> assignment.complete("ran"));

    Ticket<String> ticket = a.submit(ActionRequest.of("action", linux(), "cc"));

    assertThat(ticket.result().get(30, TimeUnit.SECONDS)).isEqualTo("ran (stored for cc)");
    assertThat(hookedOn).containsExactly("b");
  }

  @Test
  void anActionRunsAndCompletesEvenWhenEveryNotificationIsLost() throws Exception {
    SchedulerState deaf = withoutNotifications(state);
    Scheduler<String, String> a = server("a", deaf, Duration.ofSeconds(20), ResultHook.none());
    Scheduler<String, String> b = server("b", deaf, Duration.ofSeconds(20), ResultHook.none());
    b.connect(
        new WorkerSpec("w1", Map.of("OSFamily", Set.of("linux")), 1),
        assignment -> assignment.complete("ran"));

    Ticket<String> ticket = a.submit(ActionRequest.of("action", linux(), "cc"));

    // b hears nothing of the queued action and a nothing of its completion: the periodic pass of
    // each finds them (NativeLink's operations stuck in QUEUED are the bug this guards).
    assertThat(ticket.result().get(30, TimeUnit.SECONDS)).isEqualTo("ran");
  }

  /** The state with a subscription that never hears anything. */
  private static SchedulerState withoutNotifications(SchedulerState state) {
    return (SchedulerState)
        Proxy.newProxyInstance(
            SchedulerState.class.getClassLoader(),
            new Class<?>[] {SchedulerState.class},
            (proxy, method, args) -> {
              if (method.getName().equals("subscribe")) {
                return (AutoCloseable) () -> {};
              }
              try {
                return method.invoke(state, args);
              } catch (InvocationTargetException e) {
                throw e.getCause();
              }
            });
  }

  private static void awaitQuietly(CountDownLatch latch) {
    try {
      latch.await(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Test
  void aPersistentWorkerActionGoesToTheWarmWorkerOfAnotherServerWhenItIsFree() throws Exception {
    // No periodic pass during the test: only a warm worker may take the actions at once.
    Scheduler<String, String> a = warmServer("a", Duration.ofHours(1));
    Scheduler<String, String> b = warmServer("b", Duration.ofHours(1));
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch blocked = new CountDownLatch(1);
    a.connect(
        new WorkerSpec("warm", Map.of("OSFamily", Set.of("linux")), 1),
        assignment -> {
          if (assignment.request().task().equals("block")) {
            blocked.countDown();
            callbacks.execute(
                () -> {
                  awaitQuietly(release);
                  assignment.complete("warm");
                });
          } else {
            assignment.complete("warm");
          }
        });
    b.connect(
        new WorkerSpec("cold", Map.of("OSFamily", Set.of("linux")), 1),
        assignment -> assignment.complete("cold"));

    for (int i = 0; i < 5; i++) {
      Ticket<String> ticket =
          b.submit(ActionRequest.of("javac-" + i, persistent("javac-key"), "javac"));
      assertThat(ticket.result().get(30, TimeUnit.SECONDS)).as("action %d", i).isEqualTo("warm");
    }
    // A key warm nowhere restricts nothing: with the warm worker busy, the cold one takes it at
    // once (there is no periodic pass to take deferred actions).
    Ticket<String> blocking =
        b.submit(ActionRequest.of("javac-long", persistent("javac-key"), "block"));
    assertThat(blocked.await(30, TimeUnit.SECONDS)).isTrue();
    Ticket<String> other = b.submit(ActionRequest.of("scalac", persistent("scalac-key"), "x"));
    assertThat(other.result().get(30, TimeUnit.SECONDS)).isEqualTo("cold");
    release.countDown();
    assertThat(blocking.result().get(30, TimeUnit.SECONDS)).isEqualTo("warm");
  }

  @Test
  void aPersistentWorkerActionRunsColdWhenTheWarmWorkerStaysBusy() throws Exception {
    Scheduler<String, String> a = warmServer("a", Duration.ofMillis(200));
    Scheduler<String, String> b = warmServer("b", Duration.ofMillis(200));
    CountDownLatch busy = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    a.connect(
        new WorkerSpec("warm", Map.of("OSFamily", Set.of("linux")), 1),
        assignment -> {
          busy.countDown();
          callbacks.execute(
              () -> {
                awaitQuietly(release);
                assignment.complete("warm");
              });
        });
    // The cold worker connects once the warm one is busy: its periodic pass could take a deferred
    // action, and the first one must be the warm worker's.
    Ticket<String> first = a.submit(ActionRequest.of("javac-1", persistent("javac-key"), "j"));
    assertThat(busy.await(30, TimeUnit.SECONDS)).isTrue();
    b.connect(
        new WorkerSpec("cold", Map.of("OSFamily", Set.of("linux")), 1),
        assignment -> assignment.complete("cold"));

    Ticket<String> second = a.submit(ActionRequest.of("javac-2", persistent("javac-key"), "j"));

    assertThat(second.result().get(30, TimeUnit.SECONDS)).isEqualTo("cold");
    release.countDown();
    assertThat(first.result().get(30, TimeUnit.SECONDS)).isEqualTo("warm");
  }

  @Test
  void theServersWarmWorkersCountTheReportsOfItsSharedWorkers() {
    WarmWorkers warm = new WarmWorkers();
    Scheduler<String, String> a =
        Scheduler.newBuilder()
            .name("main")
            .propertyType("OSFamily", PropertyType.EXACT)
            .callbackExecutor(callbacks)
            .timer(timer)
            .expiryCheckInterval(Duration.ofHours(1))
            .workerScorer(warm)
            .build(
                new SharedState<>(
                    state,
                    "a",
                    TEXT,
                    TEXT,
                    ResultHook.none(),
                    Duration.ofSeconds(20),
                    Duration.ofMinutes(1),
                    worker -> warm.idle(worker).keySet()));
    servers.add(a);
    WorkerSession session =
        a.connect(new WorkerSpec("w1", Map.of("OSFamily", Set.of("linux")), 1), assignment -> {});

    assertThat(warm.report("w1", Map.of("javac-key", 1))).isTrue();
    assertThat(warm.idle("w1")).containsEntry("javac-key", 1);
    session.disconnect();
    assertThat(warm.report("w1", Map.of("javac-key", 1))).isFalse();
  }
}
