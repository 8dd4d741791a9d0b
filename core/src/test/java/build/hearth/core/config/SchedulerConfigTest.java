package build.hearth.core.config;

import static build.hearth.core.config.ConfigTestSupport.errorOf;
import static build.hearth.core.config.ConfigTestSupport.withScheduler;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.entry;

import build.hearth.api.ConfigException;
import build.hearth.core.scheduler.PropertyType;
import build.hearth.core.scheduler.Scheduler;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The "schedulers" section, and the durations it introduces. */
class SchedulerConfigTest {

  private static SchedulerConfig main(String scheduler) {
    return HearthConfig.parse(withScheduler(scheduler), "t").schedulers().get("main");
  }

  @Test
  void everyFieldBinds() {
    SchedulerConfig main =
        main(
            """
            {
                   "properties": {
                     "OSFamily": "exact",
                     "cpu_count": "minimum",
                     "preferred": "priority",
                     "persistentWorkerKey": "ignore"
                   },
                   "unknownProperties": "ignore",
                   "maxQueueTime": "30m",
                   "maxRetries": 0,
                   "assignmentGrace": "45s",
                   "maxQueuedActions": 500,
                   "state": {"type": "redis", "uri": "redis://cache:6379", "keyPrefix": "ci:"},
                   "workerLease": "10s"
                 }""");

    assertThat(main.name()).isEqualTo("main");
    assertThat(main.propertyTypes())
        .containsExactly(
            entry("OSFamily", PropertyType.EXACT),
            entry("cpu_count", PropertyType.MINIMUM),
            entry("preferred", PropertyType.PRIORITY),
            entry("persistentWorkerKey", PropertyType.IGNORE));
    assertThat(main.unknownPropertyType()).hasValue(PropertyType.IGNORE);
    assertThat(main.maxQueueTime()).isEqualTo(Duration.ofMinutes(30));
    assertThat(main.maxRetries()).isZero();
    assertThat(main.assignmentGrace()).isEqualTo(Duration.ofSeconds(45));
    assertThat(main.maxQueuedActions()).isEqualTo(500);
    StoreConfig state = main.state().orElseThrow();
    assertThat(state.type()).isEqualTo("redis");
    assertThat(state.typePath()).isEqualTo("schedulers.main.state.type");
    assertThat(state.settings().string("uri")).hasValue("redis://cache:6379");
    assertThat(main.workerLease()).isEqualTo(Duration.ofSeconds(10));
  }

  @Test
  void aSchedulerWithoutStateKeepsItInMemoryWithTheDefaultLease() {
    SchedulerConfig main = main("{}");

    assertThat(main.state()).isEmpty();
    assertThat(main.workerLease()).isEqualTo(Duration.ofSeconds(30));
  }

  @Test
  void aStateNeedsAType() {
    ConfigException e = errorOf(withScheduler("{\n \"state\": {\"uri\": \"redis://x\"} }"));

    assertThat(e.path()).isEqualTo("schedulers.main.state.type");
    assertThat(e.getMessage()).contains("missing required field 'type'");
  }

  @Test
  void defaultsApplyToAnEmptyScheduler() {
    SchedulerConfig main = main("{}");

    assertThat(main.propertyTypes()).isEmpty();
    assertThat(main.unknownPropertyType()).isEmpty();
    assertThat(main.maxQueueTime()).isEqualTo(Duration.ofHours(1));
    assertThat(main.maxRetries()).isEqualTo(3);
    assertThat(main.assignmentGrace()).isEqualTo(Duration.ofMinutes(1));
    assertThat(main.maxQueuedActions()).isEqualTo(10_000);
    assertThat(main)
        .isEqualTo(main("{ \"unknownProperties\": \"reject\", \"maxQueueTime\": \"60m\" }"));
  }

  @Test
  void aZeroAssignmentGraceIsRefusedNamingTheField() {
    ConfigException error = errorOf(withScheduler("{ \"assignmentGrace\": \"0s\" }"));

    assertThat(error.getMessage()).contains("schedulers.main.assignmentGrace", "longer than zero");
  }

  @Test
  void aZeroQueueBoundIsRefusedNamingTheField() {
    ConfigException error = errorOf(withScheduler("{ \"maxQueuedActions\": 0 }"));

    assertThat(error.getMessage()).contains("schedulers.main.maxQueuedActions", "at least 1");
  }

  @ParameterizedTest
  @CsvSource({"reject, ", "exact, EXACT", "priority, PRIORITY", "ignore, IGNORE"})
  void unknownPropertiesMirrorTheBuilder(String json, PropertyType type) {
    SchedulerConfig main = main("{ \"unknownProperties\": \"" + json + "\" }");

    assertThat(main.unknownPropertyType()).isEqualTo(java.util.Optional.ofNullable(type));
  }

  @Test
  void applyToConfiguresABuilderThatBuilds() {
    SchedulerConfig main =
        main("{ \"properties\": { \"cpu_count\": \"minimum\" }, \"maxRetries\": 5 }");

    try (Scheduler<String, String> scheduler =
        main.applyTo(Scheduler.newBuilder()).expiryCheckInterval(Duration.ZERO).build()) {
      assertThat(scheduler).isNotNull();
    }
  }

  @Test
  void toStringSaysRejectForNoUnknownType() {
    assertThat(main("{ \"maxQueueTime\": \"90s\" }").toString())
        .isEqualTo(
            "SchedulerConfig{name=main, properties={}, unknownProperties=reject,"
                + " maxQueueTime=90s, maxRetries=3, assignmentGrace=1m,"
                + " maxQueuedActions=10000}");
  }

  // ---- errors ----

  @Test
  void unknownSchedulerField() {
    ConfigException e = errorOf(withScheduler("{\n \"maxRetrys\": 2 }"));

    assertThat(e.path()).isEqualTo("schedulers.main.maxRetrys");
    assertThat(e.line()).isEqualTo(4);
    assertThat(e.getMessage())
        .isEqualTo(
            "schedulers.main.maxRetrys (line 4): unknown field 'maxRetrys'; did you mean"
                + " 'maxRetries'? Known fields here: properties, unknownProperties, maxQueueTime,"
                + " maxRetries, assignmentGrace, maxQueuedActions, state, workerLease");
  }

  @Test
  void schedulersMustBeAnObject() {
    ConfigException e =
        errorOf(
            "{\n  \"schedulers\": [ \"main\" ],\n  \"servers\": [ { \"listen\": \"h:0\" } ]\n}");

    assertThat(e.path()).isEqualTo("schedulers");
    assertThat(e.line()).isEqualTo(2);
    assertThat(e.getMessage())
        .isEqualTo(
            "schedulers (line 2): expected an object mapping scheduler names to scheduler"
                + " objects, found an array");
  }

  @Test
  void schedulerMustBeAnObject() {
    ConfigException e = errorOf(withScheduler("\"fifo\""));

    assertThat(e.path()).isEqualTo("schedulers.main");
    assertThat(e.line()).isEqualTo(3);
    assertThat(e.getMessage())
        .endsWith(
            "expected a scheduler object such as {\"properties\": {\"OSFamily\": \"exact\"}},"
                + " found the string \"fifo\"");
  }

  @Test
  void emptySchedulerName() {
    ConfigException e =
        errorOf(
            "{\n  \"schedulers\": {\n    \"\": {}\n  },\n"
                + "  \"servers\": [ { \"listen\": \"h:0\" } ]\n}");

    assertThat(e.path()).isEqualTo("schedulers.\"\"");
    assertThat(e.line()).isEqualTo(3);
    assertThat(e.getMessage()).endsWith("scheduler names must not be empty");
  }

  @Test
  void propertiesMustBeAnObject() {
    ConfigException e = errorOf(withScheduler("{ \"properties\": [\"OSFamily\"] }"));

    assertThat(e.path()).isEqualTo("schedulers.main.properties");
    assertThat(e.line()).isEqualTo(3);
    assertThat(e.getMessage())
        .endsWith(
            "expected an object mapping platform property names to their types, such as"
                + " {\"OSFamily\": \"exact\", \"cpu_count\": \"minimum\"}, found an array");
  }

  @Test
  void unknownPropertyType() {
    ConfigException e =
        errorOf(withScheduler("{ \"properties\": {\n  \"OSFamily\": \"Exact\" } }"));

    assertThat(e.path()).isEqualTo("schedulers.main.properties.OSFamily");
    assertThat(e.line()).isEqualTo(4);
    assertThat(e.getMessage())
        .isEqualTo(
            "schedulers.main.properties.OSFamily (line 4): expected a property type: \"exact\","
                + " \"minimum\", \"priority\" or \"ignore\"; found the string \"Exact\"");
  }

  @Test
  void propertyTypeMustBeAString() {
    ConfigException e = errorOf(withScheduler("{ \"properties\": { \"OSFamily\": true } }"));

    assertThat(e.path()).isEqualTo("schedulers.main.properties.OSFamily");
    assertThat(e.line()).isEqualTo(3);
    assertThat(e.getMessage()).endsWith("expected a string, found true");
  }

  @Test
  void emptyPropertyName() {
    ConfigException e = errorOf(withScheduler("{ \"properties\": { \"\": \"exact\" } }"));

    assertThat(e.path()).isEqualTo("schedulers.main.properties.\"\"");
    assertThat(e.line()).isEqualTo(3);
    assertThat(e.getMessage()).endsWith("a platform property needs a name");
  }

  @Test
  void unknownPropertiesCannotBeMinimum() {
    ConfigException e = errorOf(withScheduler("{\n  \"unknownProperties\": \"minimum\" }"));

    assertThat(e.path()).isEqualTo("schedulers.main.unknownProperties");
    assertThat(e.line()).isEqualTo(4);
    assertThat(e.getMessage())
        .isEqualTo(
            "schedulers.main.unknownProperties (line 4): cannot be \"minimum\": it would make"
                + " every property a number; list each numeric property under \"properties\""
                + " instead");
  }

  @Test
  void unknownPropertiesValueIsOneOfTheKnownOnes() {
    ConfigException e = errorOf(withScheduler("{ \"unknownProperties\": \"allow\" }"));

    assertThat(e.path()).isEqualTo("schedulers.main.unknownProperties");
    assertThat(e.line()).isEqualTo(3);
    assertThat(e.getMessage())
        .endsWith(
            "expected \"reject\" (refuse actions that name them), \"exact\", \"priority\" or"
                + " \"ignore\"; found the string \"allow\"");
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      quoteCharacter = '`',
      value = {
        "-1          | must not be negative, found the number -1",
        "2.5         | expected a whole number, found the number 2.5",
        "\"3\"       | expected a whole number, found the string \"3\"",
        "3000000000  | must be at most 2147483647, found 3000000000",
      })
  void maxRetriesThatAreRefused(String json, String problem) {
    ConfigException e = errorOf(withScheduler("{\n  \"maxRetries\": " + json + " }"));

    assertThat(e.path()).isEqualTo("schedulers.main.maxRetries");
    assertThat(e.line()).isEqualTo(4);
    assertThat(e.getMessage()).isEqualTo("schedulers.main.maxRetries (line 4): " + problem);
  }

  // ---- durations ----

  @ParameterizedTest
  @CsvSource({
    "250ms, PT0.25S",
    "1500ms, PT1.5S",
    "30s, PT30S",
    "15m, PT15M",
    "1h, PT1H",
    "2d, PT48H",
    "1 h, PT1H",
    "365d, PT8760H",
  })
  void durationsThatParse(String text, Duration expected) {
    assertThat(main("{ \"maxQueueTime\": \"" + text + "\" }").maxQueueTime()).isEqualTo(expected);
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      quoteCharacter = '`',
      value = {
        "3600        | expected a duration with a unit, such as \"250ms\", \"30s\", \"15m\","
            + " \"1h\" or \"2d\", found the number 3600",
        "\"3600\"    | expected a duration with a unit, such as \"250ms\", \"30s\", \"15m\","
            + " \"1h\" or \"2d\", found the string \"3600\"",
        "\"1.5h\"    | expected a duration with a unit, such as \"250ms\", \"30s\", \"15m\","
            + " \"1h\" or \"2d\", found the string \"1.5h\"",
        "\"1H\"      | expected a duration with a unit, such as \"250ms\", \"30s\", \"15m\","
            + " \"1h\" or \"2d\", found the string \"1H\"",
        "\"PT1H\"    | expected a duration with a unit, such as \"250ms\", \"30s\", \"15m\","
            + " \"1h\" or \"2d\", found the string \"PT1H\"",
        "\"-5m\"     | expected a duration with a unit, such as \"250ms\", \"30s\", \"15m\","
            + " \"1h\" or \"2d\", found the string \"-5m\"",
        "\"1h30m\"   | expected a duration with a unit, such as \"250ms\", \"30s\", \"15m\","
            + " \"1h\" or \"2d\", found the string \"1h30m\"",
        "\"0s\"      | must be longer than zero, found the string \"0s\"",
        "\"366d\"    | must be at most a year (\"365d\"), found the string \"366d\"",
        "\"99999999999d\" | must be at most a year (\"365d\"), found the string \"99999999999d\"",
      })
  void durationsThatAreRefused(String json, String problem) {
    ConfigException e = errorOf(withScheduler("{\n  \"maxQueueTime\": " + json + " }"));

    assertThat(e.path()).isEqualTo("schedulers.main.maxQueueTime");
    assertThat(e.line()).isEqualTo(4);
    assertThat(e.getMessage()).isEqualTo("schedulers.main.maxQueueTime (line 4): " + problem);
  }
}
