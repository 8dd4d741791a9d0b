package build.hearth.core.scheduler;

import static build.hearth.core.scheduler.SchedulerTesting.action;
import static build.hearth.core.scheduler.SchedulerTesting.deterministic;
import static build.hearth.core.scheduler.SchedulerTesting.failure;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import build.hearth.core.config.HearthConfig;
import build.hearth.core.config.SchedulerConfig;
import build.hearth.core.scheduler.SchedulerTesting.FakeWorker;
import build.hearth.spi.worker.WorkerSpec;
import build.hearth.testing.FakeClock;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class PropertyMatchingTest {
  private final FakeClock clock = new FakeClock();
  private Scheduler<String, String> scheduler = deterministic(clock).build();

  @AfterEach
  void bookkeepingIsConsistent() {
    ((DefaultScheduler<?, ?>) scheduler).checkInvariants();
    scheduler.close();
  }

  private FakeWorker worker(WorkerSpec.Builder spec) {
    return FakeWorker.connect(scheduler, spec.build());
  }

  @Test
  void exactRunsOnlyOnAWorkerOfferingTheValue() {
    FakeWorker linux = worker(WorkerSpec.builder("linux").property("OSFamily", "linux"));
    FakeWorker mac = worker(WorkerSpec.builder("mac").property("OSFamily", "macos"));

    scheduler.submit(action("a", "OSFamily", "macos"));

    assertThat(mac.names()).containsExactly("a");
    assertThat(linux.assigned).isEmpty();
  }

  @Test
  void exactWithSeveralValuesNeedsAWorkerOfferingAllOfThem() {
    FakeWorker docker =
        worker(WorkerSpec.builder("docker").slots(4).property("capability", "docker"));
    FakeWorker both =
        worker(WorkerSpec.builder("both").slots(4).property("capability", "docker", "gpu"));

    scheduler.submit(action("needs-both", "capability", "gpu", "capability", "docker"));
    scheduler.submit(action("needs-gpu", "capability", "gpu"));
    scheduler.submit(action("needs-docker", "capability", "docker"));

    assertThat(both.names()).containsExactly("needs-both", "needs-gpu");
    // Both workers qualify; the one with more free slots gets it.
    assertThat(docker.names()).containsExactly("needs-docker");
  }

  @Test
  void exactValueNoWorkerOffersFailsAtOnceNamingTheOffers() {
    worker(WorkerSpec.builder("linux").property("OSFamily", "linux"));
    worker(WorkerSpec.builder("mac").property("OSFamily", "macos"));

    Ticket<String> ticket = scheduler.submit(action("win", "OSFamily", "windows"));

    HearthException error = failure(ticket);
    assertThat(error.code()).isEqualTo(StatusCode.FAILED_PRECONDITION);
    assertThat(error.getMessage())
        .contains("action 'win'")
        .contains("2 connected workers")
        .contains("no connected worker offers OSFamily=windows")
        .contains("workers offer OSFamily: linux, macos");
    assertThat(ticket.stage()).isEqualTo(Ticket.Stage.COMPLETED);
    assertThat(scheduler.stats().queued()).isZero();
  }

  @Test
  void aPropertyNoWorkerHasIsNamedAsMissing() {
    worker(WorkerSpec.builder("plain").property("OSFamily", "linux"));

    HearthException error = failure(scheduler.submit(action("gpu", "capability", "gpu")));

    assertThat(error.code()).isEqualTo(StatusCode.FAILED_PRECONDITION);
    assertThat(error.getMessage()).contains("no connected worker has property 'capability'");
  }

  @Test
  void requirementsMetOnlyBySeparateWorkersListTheWorkers() {
    worker(
        WorkerSpec.builder("small-linux").property("OSFamily", "linux").property("cpu_count", "2"));
    worker(WorkerSpec.builder("big-mac").property("OSFamily", "macos").property("cpu_count", "64"));

    HearthException error =
        failure(scheduler.submit(action("big-linux", "OSFamily", "linux", "cpu_count", "32")));

    assertThat(error.code()).isEqualTo(StatusCode.FAILED_PRECONDITION);
    assertThat(error.getMessage())
        .contains("no single connected worker offers all of OSFamily=linux, cpu_count>=32")
        .contains("small-linux {OSFamily=[linux], cpu_count=[2]}")
        .contains("big-mac {OSFamily=[macos], cpu_count=[64]}");
  }

  @Test
  void minimumNeedsAtLeastTheValue() {
    FakeWorker small = worker(WorkerSpec.builder("small").slots(4).property("cpu_count", "8"));
    FakeWorker big = worker(WorkerSpec.builder("big").slots(4).property("cpu_count", "16"));

    scheduler.submit(action("twelve", "cpu_count", "12"));
    scheduler.submit(action("sixteen", "cpu_count", "16.0"));
    scheduler.submit(action("eight", "cpu_count", "8"));
    scheduler.submit(action("half", "cpu_count", "0.5"));

    assertThat(big.names()).containsExactly("twelve", "sixteen");
    assertThat(small.names()).containsExactly("eight", "half");
  }

  @Test
  void minimumWithSeveralValuesUsesTheLargest() {
    FakeWorker worker = worker(WorkerSpec.builder("w").slots(2).property("cpu_count", "4", "16"));

    scheduler.submit(action("a", "cpu_count", "2", "cpu_count", "16"));
    HearthException error =
        failure(scheduler.submit(action("b", "cpu_count", "2", "cpu_count", "17")));

    assertThat(worker.names()).containsExactly("a");
    assertThat(error.getMessage())
        .contains("no connected worker offers cpu_count>=17")
        .contains("workers offer cpu_count: 16, 4");
  }

  @Test
  void minimumThatIsNotANumberIsInvalid() {
    worker(WorkerSpec.builder("w").property("cpu_count", "8"));

    Ticket<String> ticket = scheduler.submit(action("lots", "cpu_count", "lots"));

    HearthException error = failure(ticket);
    assertThat(error.code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
    assertThat(error.getMessage()).contains("'cpu_count'").contains("'lots'").contains("number");
  }

  @Test
  void workerWithANonNumericMinimumCannotConnect() {
    assertThatThrownBy(
            () ->
                FakeWorker.connect(
                    scheduler, WorkerSpec.builder("odd").property("cpu_count", "many").build()))
        .isInstanceOfSatisfying(
            HearthException.class,
            e -> {
              assertThat(e.code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
              assertThat(e.getMessage()).contains("worker 'odd'").contains("'many'");
            });
    assertThat(scheduler.stats().workers()).isZero();
  }

  @Test
  void priorityPrefersAWorkerOfferingTheValue() {
    FakeWorker plain = worker(WorkerSpec.builder("plain"));
    FakeWorker ssd = worker(WorkerSpec.builder("ssd").property("pool", "ssd"));

    scheduler.submit(action("wants-ssd", "pool", "ssd"));
    scheduler.submit(action("indifferent"));

    assertThat(ssd.names()).containsExactly("wants-ssd");
    assertThat(plain.names()).containsExactly("indifferent");
  }

  @Test
  void priorityDoesNotRequireTheValue() {
    FakeWorker plain = worker(WorkerSpec.builder("plain"));

    scheduler.submit(action("wants-ssd", "pool", "ssd"));

    assertThat(plain.names()).containsExactly("wants-ssd");
  }

  @Test
  void priorityNeverWaitsForABusyPreferredWorker() {
    FakeWorker ssd = worker(WorkerSpec.builder("ssd").property("pool", "ssd"));
    FakeWorker plain = worker(WorkerSpec.builder("plain"));

    scheduler.submit(action("first", "pool", "ssd"));
    scheduler.submit(action("second", "pool", "ssd"));

    assertThat(ssd.names()).containsExactly("first");
    assertThat(plain.names()).containsExactly("second");
  }

  @Test
  void priorityCountsMatchedValues() {
    FakeWorker one = worker(WorkerSpec.builder("one").property("pool", "ssd"));
    FakeWorker two = worker(WorkerSpec.builder("two").property("pool", "ssd", "fast-net"));

    scheduler.submit(action("a", "pool", "ssd", "pool", "fast-net"));

    assertThat(two.names()).containsExactly("a");
    assertThat(one.assigned).isEmpty();
  }

  @Test
  void ignoredPropertiesDoNotAffectMatching() {
    FakeWorker plain = worker(WorkerSpec.builder("plain").property("container", "other"));

    scheduler.submit(action("a", "container", "docker://image"));

    assertThat(plain.names()).containsExactly("a");
  }

  @Test
  void emptyPlatformRunsAnywhere() {
    FakeWorker anything = worker(WorkerSpec.builder("anything").property("OSFamily", "linux"));

    scheduler.submit(action("a"));

    assertThat(anything.names()).containsExactly("a");
  }

  @Test
  void unknownPropertyIsInvalidAndListsTheSupportedOnes() {
    FakeWorker worker = worker(WorkerSpec.builder("w").property("colour", "blue"));

    Ticket<String> ticket = scheduler.submit(action("a", "colour", "blue"));

    HearthException error = failure(ticket);
    assertThat(error.code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
    assertThat(error.getMessage())
        .contains("unknown platform property 'colour'")
        .contains(
            "the scheduler supports: OSFamily, cache-silo-key, capability, container, cpu_count,"
                + " memoryLimit, network, persistentWorkerKey, persistentWorkerMultiplex,"
                + " persistentWorkerProtocol, persistentWorkerTool, pool, processLimit");
    assertThat(worker.assigned).isEmpty();
  }

  @Test
  void unknownPropertiesCanBeTreatedAsExact() {
    scheduler.close();
    scheduler = deterministic(clock).unknownPropertyType(PropertyType.EXACT).build();
    FakeWorker blue = worker(WorkerSpec.builder("blue").property("colour", "blue"));

    scheduler.submit(action("a", "colour", "blue"));
    HearthException error = failure(scheduler.submit(action("b", "colour", "red")));

    assertThat(blue.names()).containsExactly("a");
    assertThat(error.code()).isEqualTo(StatusCode.FAILED_PRECONDITION);
    assertThat(error.getMessage()).contains("colour=red").contains("workers offer colour: blue");
  }

  @Test
  void unknownPropertiesCanBeIgnored() {
    scheduler.close();
    scheduler = deterministic(clock).unknownPropertyType(PropertyType.IGNORE).build();
    FakeWorker plain = worker(WorkerSpec.builder("plain"));

    scheduler.submit(action("a", "colour", "blue"));

    assertThat(plain.names()).containsExactly("a");
  }

  @Test
  void unknownPropertiesCannotBeMinimums() {
    assertThatThrownBy(() -> Scheduler.newBuilder().unknownPropertyType(PropertyType.MINIMUM))
        .isInstanceOf(IllegalArgumentException.class);
  }

  private static final String[] PERSISTENT_WORKER_PROPERTIES = {
    "OSFamily", "Linux",
    "persistentWorkerKey", "3f2a9c",
    "persistentWorkerTool", "javac",
    "persistentWorkerProtocol", "json",
    "persistentWorkerMultiplex", "true"
  };

  @Test
  void persistentWorkerPropertiesAreAcceptedByAConfiguredSchedulerWithoutWorkersListingThem() {
    scheduler.close();
    SchedulerConfig config =
        HearthConfig.parse(
                """
                {
                  "schedulers": { "main": { "properties": { "OSFamily": "exact" } } },
                  "blobStores": { "cas": { "type": "memory" } },
                  "servers": [ { "listen": "127.0.0.1:0", "instances": { "": { "cas": "cas" } } } ]
                }
                """,
                "t")
            .schedulers()
            .get("main");
    scheduler =
        config
            .applyTo(Scheduler.newBuilder())
            .callbackExecutor(Runnable::run)
            .expiryCheckInterval(Duration.ZERO)
            .build();
    FakeWorker linux = worker(WorkerSpec.builder("linux").property("OSFamily", "Linux"));

    Ticket<String> ticket = scheduler.submit(action("javac", PERSISTENT_WORKER_PROPERTIES));

    assertThat(linux.names()).containsExactly("javac");
    assertThat(ticket.stage()).isEqualTo(Ticket.Stage.EXECUTING);
  }

  @Test
  void persistentWorkerPropertiesAreIgnoredEvenWhenUnknownPropertiesAreExact() {
    scheduler.close();
    scheduler = deterministic(clock).unknownPropertyType(PropertyType.EXACT).build();
    FakeWorker linux = worker(WorkerSpec.builder("linux").property("OSFamily", "Linux"));

    scheduler.submit(action("javac", PERSISTENT_WORKER_PROPERTIES));

    assertThat(linux.names()).containsExactly("javac");
  }

  @Test
  void aPersistentWorkerPropertyGivenAnotherTypeKeepsIt() {
    scheduler.close();
    scheduler =
        deterministic(clock).propertyType("persistentWorkerTool", PropertyType.EXACT).build();
    worker(WorkerSpec.builder("linux").property("OSFamily", "Linux"));
    FakeWorker javac =
        worker(
            WorkerSpec.builder("javac")
                .property("OSFamily", "Linux")
                .property("persistentWorkerTool", "javac"));

    scheduler.submit(action("a", PERSISTENT_WORKER_PROPERTIES));
    HearthException error =
        failure(scheduler.submit(action("b", "persistentWorkerTool", "scalac")));

    assertThat(javac.names()).containsExactly("a");
    assertThat(error.code()).isEqualTo(StatusCode.FAILED_PRECONDITION);
    assertThat(error.getMessage())
        .contains("no connected worker offers persistentWorkerTool=scalac");
  }

  @Test
  void networkChoosesWorkersExactlyWithoutBeingConfigured() {
    FakeWorker sandboxed = worker(WorkerSpec.builder("sandboxed").property("network", "off"));
    FakeWorker open = worker(WorkerSpec.builder("open").property("network", "on"));

    scheduler.submit(action("offline", "network", "off"));
    scheduler.submit(action("online", "network", "on"));

    assertThat(sandboxed.names()).containsExactly("offline");
    assertThat(open.names()).containsExactly("online");
  }

  @Test
  void networkOnWhereEveryWorkerCutsItOffFailsAtOnceNamingTheOffers() {
    FakeWorker sandboxed = worker(WorkerSpec.builder("sandboxed").property("network", "off"));

    HearthException error = failure(scheduler.submit(action("fetch", "network", "on")));

    assertThat(error.code()).isEqualTo(StatusCode.FAILED_PRECONDITION);
    assertThat(error.getMessage())
        .contains("no connected worker offers network=on")
        .contains("workers offer network: off");
    assertThat(sandboxed.assigned).isEmpty();
  }

  @Test
  void sandboxLimitsAreAcceptedAndChooseNoWorker() {
    FakeWorker plain = worker(WorkerSpec.builder("plain"));

    scheduler.submit(action("big", "memoryLimit", "4GiB", "processLimit", "32"));

    assertThat(plain.names()).containsExactly("big");
  }

  @Test
  void sandboxPropertiesAreAcceptedByAConfiguredScheduler() {
    scheduler.close();
    scheduler =
        configured("{ \"OSFamily\": \"exact\" }")
            .applyTo(Scheduler.newBuilder())
            .callbackExecutor(Runnable::run)
            .expiryCheckInterval(Duration.ZERO)
            .build();
    FakeWorker linux =
        worker(
            WorkerSpec.builder("linux").property("OSFamily", "Linux").property("network", "off"));

    Ticket<String> ticket =
        scheduler.submit(
            action("a", "OSFamily", "Linux", "network", "off", "memoryLimit", "64MiB"));

    assertThat(linux.names()).containsExactly("a");
    assertThat(ticket.stage()).isEqualTo(Ticket.Stage.EXECUTING);
  }

  @Test
  void aSandboxPropertyGivenAnotherTypeKeepsIt() {
    scheduler.close();
    scheduler = deterministic(clock).propertyType("network", PropertyType.IGNORE).build();
    FakeWorker plain = worker(WorkerSpec.builder("plain"));

    scheduler.submit(action("a", "network", "on"));

    assertThat(plain.names()).containsExactly("a");
  }

  @Test
  void theNamesAreTheSandboxs() {
    assertThat(SandboxPlatformProperties.NETWORK)
        .isEqualTo(build.hearth.core.sandbox.SandboxProperties.NETWORK);
    assertThat(SandboxPlatformProperties.WORKER_ENFORCED)
        .isEqualTo(build.hearth.core.sandbox.SandboxProperties.WORKER_ENFORCED);
  }

  private static SchedulerConfig configured(String properties) {
    return HearthConfig.parse(
            """
            {
              "schedulers": { "main": { "properties": %s } },
              "blobStores": { "cas": { "type": "memory" } },
              "servers": [ { "listen": "127.0.0.1:0", "instances": { "": { "cas": "cas" } } } ]
            }
            """
                .formatted(properties),
            "t")
        .schedulers()
        .get("main");
  }

  @Test
  void workerScorerBreaksTiesAfterPriorityProperties() {
    scheduler.close();
    scheduler =
        deterministic(clock)
            .workerScorer((request, worker) -> worker.name().startsWith("warm") ? 1 : 0)
            .build();
    FakeWorker cold = worker(WorkerSpec.builder("cold").property("pool", "ssd"));
    FakeWorker warm = worker(WorkerSpec.builder("warm"));
    FakeWorker warmSsd = worker(WorkerSpec.builder("warm-ssd").property("pool", "ssd"));

    scheduler.submit(action("a"));
    scheduler.submit(action("b", "pool", "ssd"));
    scheduler.submit(action("c", "pool", "ssd"));

    assertThat(warm.names()).containsExactly("a");
    assertThat(warmSsd.names()).containsExactly("b");
    assertThat(cold.names()).containsExactly("c");
  }

  @Test
  void aThrowingScorerCountsAsNoPreference() {
    scheduler.close();
    scheduler =
        deterministic(clock)
            .workerScorer(
                (request, worker) -> {
                  throw new IllegalStateException("broken scorer");
                })
            .build();
    FakeWorker worker = worker(WorkerSpec.builder("w"));

    scheduler.submit(action("a"));

    assertThat(worker.names()).containsExactly("a");
  }
}
