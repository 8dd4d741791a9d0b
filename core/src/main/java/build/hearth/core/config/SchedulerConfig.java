package build.hearth.core.config;

import build.hearth.core.scheduler.PropertyType;
import build.hearth.core.scheduler.SchedulerBuilder;
import build.hearth.core.scheduler.SharedState;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * One named scheduler of the configuration: which platform properties actions may name and how each
 * is matched against workers, what happens to properties it does not list, and how long and how
 * often an action may wait for a worker, and how long past its timeout a worker may hold it.
 *
 * <p>Built only by {@link HearthConfig}'s readers, which have checked that every property has a
 * non-empty name and one of the four types, that the queue time and the assignment grace are
 * positive and that the retry count is not negative. {@link #applyTo(SchedulerBuilder)} hands all
 * of it to a scheduler builder. Immutable and thread-safe.
 */
public final class SchedulerConfig {
  /** How long an action may wait for a worker when the file does not say: 1 hour. */
  public static final Duration DEFAULT_MAX_QUEUE_TIME = Duration.ofHours(1);

  /** How often a lost action is queued again when the file does not say: 3 times. */
  public static final int DEFAULT_MAX_RETRIES = 3;

  /**
   * How long past an action's timeout a worker may hold it without answering, when the file does
   * not say: {@link SchedulerBuilder#DEFAULT_ASSIGNMENT_GRACE}.
   */
  public static final Duration DEFAULT_ASSIGNMENT_GRACE = SchedulerBuilder.DEFAULT_ASSIGNMENT_GRACE;

  /**
   * How many actions may wait in the queue at once when the file does not say: {@link
   * SchedulerBuilder#DEFAULT_MAX_QUEUED_ACTIONS}.
   */
  public static final int DEFAULT_MAX_QUEUED_ACTIONS = SchedulerBuilder.DEFAULT_MAX_QUEUED_ACTIONS;

  private final String name;
  private final Map<String, PropertyType> propertyTypes;
  private final PropertyType unknownPropertyType;
  private final Duration maxQueueTime;
  private final int maxRetries;
  private final Duration assignmentGrace;
  private final int maxQueuedActions;
  private final StoreConfig state; // null: the memory state of one server
  private final Duration workerLease;

  SchedulerConfig(
      String name,
      Map<String, PropertyType> propertyTypes,
      PropertyType unknownPropertyType,
      Duration maxQueueTime,
      int maxRetries) {
    this(
        name,
        propertyTypes,
        unknownPropertyType,
        maxQueueTime,
        maxRetries,
        DEFAULT_ASSIGNMENT_GRACE,
        DEFAULT_MAX_QUEUED_ACTIONS,
        null,
        SharedState.DEFAULT_LEASE);
  }

  SchedulerConfig(
      String name,
      Map<String, PropertyType> propertyTypes,
      PropertyType unknownPropertyType,
      Duration maxQueueTime,
      int maxRetries,
      Duration assignmentGrace,
      int maxQueuedActions,
      StoreConfig state,
      Duration workerLease) {
    this.state = state;
    this.workerLease = Objects.requireNonNull(workerLease, "workerLease");
    this.name = Objects.requireNonNull(name, "name");
    this.propertyTypes = Collections.unmodifiableMap(new LinkedHashMap<>(propertyTypes));
    this.unknownPropertyType = unknownPropertyType;
    this.maxQueueTime = Objects.requireNonNull(maxQueueTime, "maxQueueTime");
    this.maxRetries = maxRetries;
    this.assignmentGrace = Objects.requireNonNull(assignmentGrace, "assignmentGrace");
    this.maxQueuedActions = maxQueuedActions;
  }

  /** {@return the scheduler's name, its key under {@code schedulers}} */
  public String name() {
    return name;
  }

  /**
   * {@return the type of each platform property the scheduler knows, by name, in the file's order}
   */
  public Map<String, PropertyType> propertyTypes() {
    return propertyTypes;
  }

  /**
   * {@return the type of properties missing from {@link #propertyTypes()}: {@code EXACT}, {@code
   * PRIORITY} or {@code IGNORE}; empty when an action naming such a property is refused (the file's
   * {@code "reject"}, the default)}
   */
  public Optional<PropertyType> unknownPropertyType() {
    return Optional.ofNullable(unknownPropertyType);
  }

  /** {@return how long an action may wait in the queue before it fails; always positive} */
  public Duration maxQueueTime() {
    return maxQueueTime;
  }

  /** {@return how many times an action whose worker was lost is queued again; 0 or more} */
  public int maxRetries() {
    return maxRetries;
  }

  /**
   * {@return how long past an action's timeout a worker may hold it without answering before the
   * scheduler takes it back; always positive}
   */
  public Duration assignmentGrace() {
    return assignmentGrace;
  }

  /**
   * {@return how many actions may wait in the queue at once; beyond it Execute is refused with
   * RESOURCE_EXHAUSTED; always positive}
   */
  public int maxQueuedActions() {
    return maxQueuedActions;
  }

  /**
   * {@return the shared state this scheduler keeps its queue, claims and workers in (the file's
   * {@code state}, an object with a {@code type} such as {@code "redis"} and that type's settings),
   * so that every server configured with the same state is one service; empty for a scheduler of
   * this server alone, kept in memory}
   */
  public Optional<StoreConfig> state() {
    return Optional.ofNullable(state);
  }

  /**
   * {@return how long a worker's registration in the shared {@link #state} lasts without renewal:
   * the time a worker whose server died has to re-attach through another before its actions are
   * queued again (the file's {@code workerLease}); 30 s by default}
   */
  public Duration workerLease() {
    return workerLease;
  }

  /**
   * Sets this configuration's name, property types, unknown-property type, queue time and bound,
   * retries and assignment grace on {@code builder}, leaving its clock, executors and scorer as
   * they are.
   *
   * @param builder the scheduler builder to configure
   * @return {@code builder}
   */
  public SchedulerBuilder applyTo(SchedulerBuilder builder) {
    return builder
        .name(name)
        .propertyTypes(propertyTypes)
        .unknownPropertyType(unknownPropertyType)
        .maxQueueTime(maxQueueTime)
        .maxRetries(maxRetries)
        .assignmentGrace(assignmentGrace)
        .maxQueuedActions(maxQueuedActions);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SchedulerConfig that
        && name.equals(that.name)
        && propertyTypes.equals(that.propertyTypes)
        && unknownPropertyType == that.unknownPropertyType
        && maxQueueTime.equals(that.maxQueueTime)
        && maxRetries == that.maxRetries
        && assignmentGrace.equals(that.assignmentGrace)
        && maxQueuedActions == that.maxQueuedActions
        && Objects.equals(state, that.state)
        && workerLease.equals(that.workerLease);
  }

  @Override
  public int hashCode() {
    return Objects.hash(
        name,
        propertyTypes,
        unknownPropertyType,
        maxQueueTime,
        maxRetries,
        assignmentGrace,
        maxQueuedActions,
        state,
        workerLease);
  }

  @Override
  public String toString() {
    return "SchedulerConfig{name="
        + name
        + ", properties="
        + propertyTypes
        + ", unknownProperties="
        + (unknownPropertyType == null ? "reject" : unknownPropertyType)
        + ", maxQueueTime="
        + ConfigValues.format(maxQueueTime)
        + ", maxRetries="
        + maxRetries
        + ", assignmentGrace="
        + ConfigValues.format(assignmentGrace)
        + ", maxQueuedActions="
        + maxQueuedActions
        + "}";
  }
}
