package build.hearth.core.scheduler;

import static org.assertj.core.api.Assertions.assertThat;

import build.bazel.remote.execution.v2.Platform;
import build.hearth.spi.worker.WorkerSpec;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A worker re-attaches through another server of a shared scheduler: what it still runs is adopted
 * and answered there, what it no longer runs is queued again at once, and another worker's actions
 * are never taken.
 */
class SharedSchedulerReattachTest {
  private static final StateCodec<String> TEXT = TextCodec.TEXT;

  private final MemorySchedulerState state = new MemorySchedulerState(Clock.systemUTC(), 1 << 20);
  private final ExecutorService callbacks = Executors.newCachedThreadPool();
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
  private final List<Scheduler<String, String>> servers = new CopyOnWriteArrayList<>();

  private Scheduler<String, String> server(String id) {
    Scheduler<String, String> server =
        Scheduler.newBuilder()
            .name("main")
            .propertyType("OSFamily", PropertyType.EXACT)
            .maxQueueTime(Duration.ofMinutes(10))
            .callbackExecutor(callbacks)
            .timer(timer)
            .expiryCheckInterval(Duration.ofMillis(200))
            .build(
                new SharedState<>(
                    state,
                    id,
                    TEXT,
                    TEXT,
                    ResultHook.none(),
                    // Far longer than any test: only re-attachment may move a claim here.
                    Duration.ofMinutes(10),
                    Duration.ofMinutes(1)));
    servers.add(server);
    return server;
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

  private static WorkerSpec spec(String name, int slots) {
    return new WorkerSpec(name, Map.of("OSFamily", Set.of("linux")), slots);
  }

  @Test
  void whatAWorkerStillRunsIsAdoptedByTheServerItReattachesThroughAndAnsweredThere()
      throws Exception {
    Scheduler<String, String> a = server("a");
    Scheduler<String, String> b = server("b");
    assertThat(b.reattachGrace()).contains(Duration.ofMinutes(10));
    BlockingQueue<Assignment<String, String>> onA = new LinkedBlockingQueue<>();
    WorkerSession first = a.connect(spec("w", 1), onA::add);
    Ticket<String> ticket = a.submit(ActionRequest.of("action", linux(), "echo"));
    Assignment<String, String> given = onA.poll(30, TimeUnit.SECONDS);
    assertThat(given).isNotNull();
    first.disconnect(); // a's stream ends; the claim stays for the lease

    Reattached<String, String> again =
        b.reattach(spec("w", 1), Set.of(given.request().name()), assignment -> {});

    assertThat(again.adopted()).hasSize(1);
    Assignment<String, String> adopted = again.adopted().get(0);
    assertThat(adopted.request().name()).isEqualTo(given.request().name());
    assertThat(adopted.request().task()).isEqualTo("echo");
    assertThat(b.stats().busySlots()).isEqualTo(1);
    assertThat(adopted.complete("ran once")).isTrue();
    assertThat(ticket.result().get(30, TimeUnit.SECONDS)).isEqualTo("ran once");
    assertThat(given.complete("late on a")).isFalse();
  }

  @Test
  void aWorkerThatReconnectsWithoutItsActionsHasThemQueuedAgainAtOnce() throws Exception {
    Scheduler<String, String> a = server("a");
    Scheduler<String, String> b = server("b");
    BlockingQueue<Assignment<String, String>> onA = new LinkedBlockingQueue<>();
    WorkerSession first = a.connect(spec("w", 1), onA::add);
    Ticket<String> ticket = a.submit(ActionRequest.of("action", linux(), "echo"));
    assertThat(onA.poll(30, TimeUnit.SECONDS)).isNotNull();
    first.disconnect();

    // Back with nothing running (it cancelled what it ran): not left to a lease it renews.
    Reattached<String, String> again =
        b.reattach(
            spec("w", 1),
            Set.of(),
            assignment -> assignment.complete("attempt " + assignment.attempt()));

    assertThat(again.adopted()).isEmpty();
    assertThat(ticket.result().get(30, TimeUnit.SECONDS)).isEqualTo("attempt 2");
  }

  @Test
  void aWorkerNamingAnotherWorkersActionAdoptsNothing() throws Exception {
    Scheduler<String, String> a = server("a");
    Scheduler<String, String> b = server("b");
    BlockingQueue<Assignment<String, String>> onA = new LinkedBlockingQueue<>();
    a.connect(spec("owner", 1), onA::add);
    Ticket<String> ticket = a.submit(ActionRequest.of("action", linux(), "echo"));
    Assignment<String, String> given = onA.poll(30, TimeUnit.SECONDS);
    assertThat(given).isNotNull();

    Reattached<String, String> intruder =
        b.reattach(spec("intruder", 1), Set.of(given.request().name()), assignment -> {});

    assertThat(intruder.adopted()).isEmpty();
    assertThat(b.stats().busySlots()).isZero();
    assertThat(given.complete("from the owner")).isTrue();
    assertThat(ticket.result().get(30, TimeUnit.SECONDS)).isEqualTo("from the owner");
  }
}
