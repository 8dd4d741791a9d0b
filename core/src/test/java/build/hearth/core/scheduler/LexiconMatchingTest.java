package build.hearth.core.scheduler;

import static build.hearth.core.scheduler.SchedulerTesting.action;
import static build.hearth.core.scheduler.SchedulerTesting.deterministic;
import static build.hearth.core.scheduler.SchedulerTesting.failure;
import static org.assertj.core.api.Assertions.assertThat;

import build.bazel.remote.execution.v2.Platform;
import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import build.hearth.core.scheduler.SchedulerTesting.FakeWorker;
import build.hearth.spi.worker.WorkerSpec;
import build.hearth.testing.FakeClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The REAPI platform lexicon as the scheduler applies it: {@code OSFamily} one exact value with
 * {@code Linux} an alias of {@code linux}, {@code ISA} several values AND-ed, {@code
 * cache-silo-key} accepted and ignored, and bounds on what a client may send.
 */
class LexiconMatchingTest {
  private final FakeClock clock = new FakeClock();
  private final Scheduler<String, String> scheduler =
      deterministic(clock).propertyType("ISA", PropertyType.EXACT).build();

  @AfterEach
  void bookkeepingIsConsistent() {
    ((DefaultScheduler<?, ?>) scheduler).checkInvariants();
    scheduler.close();
  }

  private FakeWorker worker(WorkerSpec.Builder spec) {
    return FakeWorker.connect(scheduler, spec.build());
  }

  @Test
  void lowerCaseLinuxRunsOnAWorkerConfiguredWithTheOldSpelling() {
    FakeWorker old = worker(WorkerSpec.builder("old").property("OSFamily", "Linux"));

    scheduler.submit(action("a", "OSFamily", "linux"));

    assertThat(old.names()).containsExactly("a");
  }

  @Test
  void theOldSpellingRunsOnAWorkerOfferingTheLexiconsValue() {
    FakeWorker detected =
        worker(
            WorkerSpec.builder("new")
                .slots(2)
                .property("OSFamily", "linux")
                .property("ISA", "x86-64"));

    scheduler.submit(action("a", "OSFamily", "Linux"));
    scheduler.submit(action("b", "OSFamily", "linux", "ISA", "x86-64"));

    assertThat(detected.names()).containsExactly("a", "b");
  }

  @Test
  void anotherOsFamilyFailsAtOnceNamingThePropertyAsTheActionSpelledIt() {
    worker(WorkerSpec.builder("old").property("OSFamily", "Linux"));

    HearthException error = failure(scheduler.submit(action("win", "OSFamily", "Windows")));

    assertThat(error.code()).isEqualTo(StatusCode.FAILED_PRECONDITION);
    assertThat(error.getMessage())
        .contains("no connected worker offers OSFamily=Windows")
        .contains("workers offer OSFamily: Linux");
  }

  @Test
  void osFamilyTakesOneValue() {
    FakeWorker both = worker(WorkerSpec.builder("both").property("OSFamily", "linux", "windows"));

    HearthException error =
        failure(scheduler.submit(action("two", "OSFamily", "linux", "OSFamily", "windows")));
    scheduler.submit(action("aliases", "OSFamily", "linux", "OSFamily", "Linux"));

    assertThat(error.code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
    assertThat(error.getMessage())
        .contains("action 'two' names several values of platform property 'OSFamily'")
        .contains("linux, windows")
        .contains("it takes one");
    // Two spellings of one family are one value.
    assertThat(both.names()).containsExactly("aliases");
  }

  @Test
  void isaValuesAreAllRequired() {
    FakeWorker plain = worker(WorkerSpec.builder("plain").slots(4).property("ISA", "x86-64"));
    FakeWorker avx =
        worker(WorkerSpec.builder("avx").slots(1).property("ISA", "x86-64", "x86-avx2"));

    scheduler.submit(action("avx2", "ISA", "x86-64", "ISA", "x86-avx2"));
    scheduler.submit(action("any", "ISA", "x86-64"));
    HearthException error =
        failure(scheduler.submit(action("arm", "ISA", "arm-a64", "ISA", "x86-avx2")));

    assertThat(avx.names()).containsExactly("avx2");
    assertThat(plain.names()).containsExactly("any");
    assertThat(error.code()).isEqualTo(StatusCode.FAILED_PRECONDITION);
    assertThat(error.getMessage()).contains("no connected worker offers ISA=arm-a64");
  }

  @Test
  void isaIsCaseSensitive() {
    worker(WorkerSpec.builder("w").property("ISA", "x86-64"));

    HearthException error = failure(scheduler.submit(action("a", "ISA", "X86-64")));

    assertThat(error.code()).isEqualTo(StatusCode.FAILED_PRECONDITION);
  }

  @Test
  void cacheSiloKeyIsAcceptedByEverySchedulerAndChoosesNoWorker() {
    FakeWorker plain = worker(WorkerSpec.builder("plain").slots(2).property("OSFamily", "linux"));

    scheduler.submit(action("a", "cache-silo-key", "build-1234"));
    scheduler.submit(action("b", "cache-silo-key", "other", "OSFamily", "linux"));

    assertThat(plain.names()).containsExactly("a", "b");
  }

  @Test
  void anUnknownPropertySaysHowToDeclareItIgnored() {
    worker(WorkerSpec.builder("plain"));

    HearthException error = failure(scheduler.submit(action("a", "build", "1234")));

    assertThat(error.code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
    assertThat(error.getMessage())
        .contains("unknown platform property 'build' in action 'a'")
        .contains("\"properties\": {\"build\": \"ignore\"}");
  }

  @Test
  void aPlatformOverTheBoundsIsInvalid() {
    FakeWorker plain = worker(WorkerSpec.builder("plain"));
    Platform.Builder many = Platform.newBuilder();
    for (int i = 0; i <= Requirements.MAX_PROPERTIES; i++) {
      many.addPropertiesBuilder().setName("cache-silo-key").setValue("v" + i);
    }

    HearthException tooMany =
        failure(scheduler.submit(ActionRequest.of("many", many.build(), "many")));
    HearthException longValue =
        failure(
            scheduler.submit(
                action("long", "cache-silo-key", "x".repeat(Requirements.MAX_VALUE_LENGTH + 1))));
    HearthException longName =
        failure(scheduler.submit(action("name", "n".repeat(Requirements.MAX_NAME_LENGTH + 1), "")));
    scheduler.submit(
        action("at-the-bound", "cache-silo-key", "x".repeat(Requirements.MAX_VALUE_LENGTH)));

    assertThat(tooMany.code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
    assertThat(tooMany.getMessage())
        .contains("names " + (Requirements.MAX_PROPERTIES + 1) + " platform properties")
        .contains("at most " + Requirements.MAX_PROPERTIES);
    assertThat(longValue.code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
    assertThat(longValue.getMessage())
        .contains("the value of platform property 'cache-silo-key' in action 'long'");
    assertThat(longName.code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
    assertThat(longName.getMessage()).contains("whose name is");
    assertThat(plain.names()).containsExactly("at-the-bound");
  }
}
