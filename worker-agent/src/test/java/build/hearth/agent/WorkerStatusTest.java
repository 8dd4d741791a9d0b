package build.hearth.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import build.hearth.api.PoolStats;
import build.hearth.core.ops.WorkerReports;
import build.hearth.grpc.WorkerTestServer;
import build.hearth.grpc.common.PoolStatsSample;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Workers' status reports over a real socket: from a {@link WorkerAgent}'s status supplier to the
 * server's {@link WorkerReports}, and out of them again when the worker leaves.
 */
class WorkerStatusTest {
  private static final Duration WAIT = Duration.ofSeconds(10);

  private final List<WorkerAgent> agents = new ArrayList<>();
  private WorkerTestServer server;

  @BeforeEach
  void start() {
    server = new WorkerTestServer();
  }

  @AfterEach
  void stop() {
    agents.forEach(WorkerAgent::close);
    server.close();
  }

  private WorkerAgent agent(String name, Supplier<Optional<PoolStats>> status) {
    WorkerAgent.Builder builder =
        WorkerAgent.newBuilder()
            .endpoint(server.endpoint())
            .name(name)
            .slots(2)
            .runner(new TestRunner.Script().factory())
            .backOff(Duration.ofMillis(20), Duration.ofMillis(300))
            .statusInterval(Duration.ofMillis(50));
    if (status != null) {
      builder.statusSupplier(status);
    }
    WorkerAgent agent = builder.build();
    agents.add(agent);
    agent.start();
    await().atMost(WAIT).until(agent::isConnected);
    return agent;
  }

  private Optional<WorkerReports.Report> report(String worker) {
    return Optional.ofNullable(server.reports.snapshot().get(worker));
  }

  @Test
  void theServerHoldsTheAgentsLatestPoolStatsUntilItLeaves() {
    PoolStats first = PoolStatsSample.sample();
    AtomicReference<Optional<PoolStats>> current = new AtomicReference<>(Optional.of(first));
    WorkerAgent agent = agent("reporter", current::get);

    await()
        .atMost(WAIT)
        .until(
            () -> report("reporter").flatMap(WorkerReports.Report::persistentWorkers),
            o -> o.equals(Optional.of(first)));
    WorkerReports.Report report = report("reporter").orElseThrow();
    assertThat(report.remote()).isTrue();
    assertThat(report.scheduler()).isEqualTo("main");

    PoolStats later =
        new PoolStats(
            first.takenAt().plusSeconds(5),
            first.maxProcesses(),
            0,
            first.maxAlive(),
            0,
            first.totals(),
            List.of());
    current.set(Optional.of(later));
    await()
        .atMost(WAIT)
        .until(
            () -> report("reporter").flatMap(WorkerReports.Report::persistentWorkers),
            o -> o.equals(Optional.of(later)));

    agent.close();
    await().atMost(WAIT).until(() -> report("reporter").isEmpty());
  }

  @Test
  void aWorkerWithoutStatusIsListedWithoutPersistentWorkers() {
    agent("quiet", null);

    await().atMost(WAIT).until(() -> report("quiet").isPresent());
    assertThat(report("quiet").orElseThrow().persistentWorkers()).isEmpty();
    assertThat(report("quiet").orElseThrow().remote()).isTrue();
  }

  @Test
  void aFailingSupplierSkipsReportsButKeepsTheWorkerConnected() {
    PoolStats stats = PoolStatsSample.sample();
    AtomicReference<Optional<PoolStats>> current = new AtomicReference<>(null);
    WorkerAgent agent =
        agent(
            "flaky",
            () -> {
              Optional<PoolStats> value = current.get();
              if (value == null) {
                throw new IllegalStateException("pool not ready");
              }
              return value;
            });
    await().atMost(WAIT).until(() -> report("flaky").isPresent());

    current.set(Optional.of(stats));

    await()
        .atMost(WAIT)
        .until(
            () -> report("flaky").flatMap(WorkerReports.Report::persistentWorkers),
            o -> o.equals(Optional.of(stats)));
    assertThat(agent.isConnected()).isTrue();
  }

  @Test
  void aReconnectedWorkerReportsAgain() {
    PoolStats stats = PoolStatsSample.sample();
    WorkerAgent agent = agent("returning", () -> Optional.of(stats));
    await()
        .atMost(WAIT)
        .until(
            () -> report("returning").flatMap(WorkerReports.Report::persistentWorkers).isPresent());

    server.stop();
    await().atMost(WAIT).until(() -> report("returning").isEmpty());
    server.start();

    await().atMost(WAIT).until(agent::isConnected);
    await()
        .atMost(WAIT)
        .until(
            () -> report("returning").flatMap(WorkerReports.Report::persistentWorkers),
            o -> o.equals(Optional.of(stats)));
  }
}
