package build.hearth.core.scheduler;

import static build.hearth.core.scheduler.SchedulerTesting.action;
import static build.hearth.core.scheduler.SchedulerTesting.deterministic;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import build.hearth.core.scheduler.SchedulerTesting.FakeWorker;
import build.hearth.spi.worker.WorkerSpec;
import build.hearth.testing.FakeClock;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@link WarmWorkers} on its own and as the scorer of a {@link DefaultScheduler}. */
class WarmWorkersTest {
  private static final String KEY = "javac-17";

  private final FakeClock clock = new FakeClock();
  private final WarmWorkers warm = new WarmWorkers();
  private Scheduler<String, String> scheduler = deterministic(clock).workerScorer(warm).build();

  @AfterEach
  void bookkeepingIsConsistent() {
    ((DefaultScheduler<?, ?>) scheduler).checkInvariants();
    scheduler.close();
  }

  private FakeWorker worker(String name, int slots) {
    return FakeWorker.connect(scheduler, WorkerSpec.builder(name).slots(slots).build());
  }

  private static ActionRequest<String> persistent(String name, String key) {
    return action(name, "persistentWorkerKey", key, "persistentWorkerTool", "javac");
  }

  @Test
  void anActionGoesToTheWorkerWithAnIdleProcessForItsKey() {
    FakeWorker a = worker("a", 2);
    FakeWorker b = worker("b", 4);
    assertThat(warm.report("a", Map.of(KEY, 1))).isTrue();

    scheduler.submit(persistent("first", KEY));

    // b has more free slots, which would win without the idle process on a.
    assertThat(a.names()).containsExactly("first");
    assertThat(b.assigned).isEmpty();
  }

  @Test
  void theNextActionOfABurstSpillsOverOnceTheIdleProcessIsTaken() {
    FakeWorker a = worker("a", 2);
    FakeWorker b = worker("b", 3);
    warm.report("a", Map.of(KEY, 1));

    scheduler.submit(persistent("first", KEY));
    scheduler.submit(persistent("second", KEY));

    // Had the assignment not used up a's idle process, a (1 free slot) would have beaten b (3).
    assertThat(a.names()).containsExactly("first");
    assertThat(b.names()).containsExactly("second");
    assertThat(warm.idle("a")).isEmpty();
  }

  @Test
  void eachIdleProcessAttractsOneActionUntilTheNextReport() {
    FakeWorker a = worker("a", 4);
    FakeWorker b = worker("b", 8);
    warm.report("a", Map.of(KEY, 2, "scalac", 1));

    scheduler.submit(persistent("1", KEY));
    assertThat(warm.idle("a")).containsExactlyInAnyOrderEntriesOf(Map.of(KEY, 1, "scalac", 1));
    scheduler.submit(persistent("2", KEY));
    scheduler.submit(persistent("3", KEY));

    assertThat(a.names()).containsExactly("1", "2");
    assertThat(b.names()).containsExactly("3");
    assertThat(warm.idle("a")).containsExactlyEntriesOf(Map.of("scalac", 1));

    // The worker's report replaces what the scheduler counted.
    warm.report("a", Map.of(KEY, 1));
    scheduler.submit(persistent("4", KEY));
    assertThat(a.names()).containsExactly("1", "2", "4");
  }

  @Test
  void aWarmWorkerWithoutAFreeSlotDoesNotAttractTheAction() {
    FakeWorker a = worker("a", 1);
    FakeWorker b = worker("b", 1);
    scheduler.submit(action("plain"));
    assertThat(a.names()).containsExactly("plain");
    warm.report("a", Map.of(KEY, 1));

    scheduler.submit(persistent("k", KEY));

    assertThat(b.names()).containsExactly("k");
    // Not counted as taken: a never got the action.
    assertThat(warm.idle("a")).containsExactlyEntriesOf(Map.of(KEY, 1));
  }

  @Test
  void aWorkerWhoseProcessesOfTheKeyAreAllBusyDoesNotAttractTheAction() {
    FakeWorker a = worker("a", 2);
    FakeWorker b = worker("b", 3);
    warm.report("a", Map.of(KEY, 0, "other-key", 3));

    scheduler.submit(persistent("k", KEY));

    assertThat(b.names()).containsExactly("k");
    assertThat(a.assigned).isEmpty();
    assertThat(warm.idle("a")).containsExactlyEntriesOf(Map.of("other-key", 3));
  }

  @Test
  void actionsWithoutAKeyIgnoreWarmWorkersAndTakeNoProcess() {
    FakeWorker a = worker("a", 2);
    FakeWorker b = worker("b", 4);
    warm.report("a", Map.of(KEY, 1));

    scheduler.submit(action("plain"));
    scheduler.submit(action("empty-key", "persistentWorkerKey", ""));

    assertThat(b.names()).containsExactly("plain", "empty-key");
    assertThat(a.assigned).isEmpty();
    assertThat(warm.idle("a")).containsExactlyEntriesOf(Map.of(KEY, 1));
  }

  @Test
  void aQueuedActionTakenByAFreedSlotCountsAsTakingAProcess() {
    FakeWorker a = worker("a", 1);
    scheduler.submit(action("busy"));
    scheduler.submit(persistent("queued", KEY));
    assertThat(scheduler.stats().queued()).isEqualTo(1);

    // As a worker does: the process is idle again before the action's answer frees the slot.
    warm.report("a", Map.of(KEY, 1));
    a.finish("busy");

    assertThat(a.names()).containsExactly("busy", "queued");
    assertThat(warm.idle("a")).isEmpty();
  }

  @Test
  void aDisconnectedWorkerIsForgottenAndItsReportsDropped() {
    FakeWorker a = worker("a", 1);
    FakeWorker b = worker("b", 1);
    warm.report("a", Map.of(KEY, 1));

    a.session.disconnect();

    assertThat(warm.idle("a")).isEmpty();
    assertThat(warm.report("a", Map.of(KEY, 1))).isFalse();
    assertThat(warm.toString()).doesNotContain("a=");
    scheduler.submit(persistent("k", KEY));
    assertThat(b.names()).containsExactly("k");

    FakeWorker again = worker("a", 1);
    assertThat(warm.idle("a")).isEmpty();
    assertThat(warm.report("a", Map.of(KEY, 1))).isTrue();
    assertThat(again.assigned).isEmpty();
  }

  @Test
  void aReportForAWorkerThatNeverConnectedIsDropped() {
    assertThat(warm.report("nobody", Map.of(KEY, 1))).isFalse();
    assertThat(warm.idle("nobody")).isEmpty();
  }

  @Test
  void whileAReconnectingWorkerOverlapsItsOldConnectionTheCountsStay() {
    FakeWorker old = worker("a", 1);
    FakeWorker reconnected = worker("a", 1);
    warm.report("a", Map.of(KEY, 1));

    old.session.disconnect();
    assertThat(warm.idle("a")).containsExactlyEntriesOf(Map.of(KEY, 1));

    reconnected.session.disconnect();
    assertThat(warm.idle("a")).isEmpty();
  }

  @Test
  void closingTheSchedulerForgetsEveryWorker() {
    worker("a", 1);
    worker("b", 1);
    warm.report("a", Map.of(KEY, 1));
    warm.report("b", Map.of(KEY, 2));

    scheduler.close();

    assertThat(warm.idle("a")).isEmpty();
    assertThat(warm.idle("b")).isEmpty();
  }

  @Test
  void priorityPropertiesStillComeBeforeWarmth() {
    FakeWorker warmWorker = worker("warm", 1);
    FakeWorker ssd =
        FakeWorker.connect(scheduler, WorkerSpec.builder("ssd").property("pool", "ssd").build());
    warm.report("warm", Map.of(KEY, 1));

    scheduler.submit(action("k", "persistentWorkerKey", KEY, "pool", "ssd"));

    assertThat(ssd.names()).containsExactly("k");
    assertThat(warmWorker.assigned).isEmpty();
  }

  @Test
  void reportsAreCopiedAndChecked() {
    worker("a", 1);
    Map<String, Integer> idle = new HashMap<>(Map.of(KEY, 1));
    warm.report("a", idle);
    idle.put("later", 5);

    assertThat(warm.idle("a")).containsExactlyEntriesOf(Map.of(KEY, 1));
    assertThatThrownBy(() -> warm.idle("a").put("x", 1))
        .isInstanceOf(UnsupportedOperationException.class);
    Map<String, Integer> withNull = new HashMap<>();
    withNull.put(KEY, null);
    assertThatThrownBy(() -> warm.report("a", withNull)).isInstanceOf(NullPointerException.class);
  }

  @Test
  void aThrowingHookDoesNotBreakTheScheduler() {
    scheduler.close();
    WorkerScorer broken =
        new WorkerScorer() {
          @Override
          public int score(ActionRequest<?> request, WorkerSpec worker) {
            return 0;
          }

          @Override
          public void connected(WorkerSpec worker) {
            throw new IllegalStateException("broken connected");
          }

          @Override
          public void assigned(ActionRequest<?> request, WorkerSpec worker) {
            throw new IllegalStateException("broken assigned");
          }

          @Override
          public void disconnected(WorkerSpec worker) {
            throw new IllegalStateException("broken disconnected");
          }
        };
    scheduler = deterministic(clock).workerScorer(broken).build();
    FakeWorker a = worker("a", 1);

    scheduler.submit(persistent("k", KEY));
    assertThat(a.names()).containsExactly("k");
    ((DefaultScheduler<?, ?>) scheduler).checkInvariants();

    a.session.disconnect();
    assertThat(a.session.isConnected()).isFalse();
    assertThat(scheduler.stats().workers()).isZero();
  }
}
