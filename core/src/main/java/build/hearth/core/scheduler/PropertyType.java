package build.hearth.core.scheduler;

/**
 * How the scheduler compares one platform property of an action with the same property of a worker.
 * Each property name the scheduler accepts has one type, given to {@link
 * SchedulerBuilder#propertyType}.
 *
 * <p>A property may occur several times in an action's {@code Platform} and in a worker's
 * properties; the rules below say what that means for each type.
 */
public enum PropertyType {
  /**
   * Required, compared as strings: the worker must offer every value the action names for the
   * property. A worker offering {@code capability=[docker, gpu]} runs actions that ask for {@code
   * capability=gpu}, and actions that ask for both.
   */
  EXACT,

  /**
   * Required, compared as decimal numbers: the worker's value (its largest, if it offers several)
   * must be at least the action's value (its largest, if it names several). Use it for counts and
   * sizes such as {@code cpu_count} or {@code memory_gb}. A value that is not a number is
   * INVALID_ARGUMENT, both in an action and in a worker's properties.
   */
  MINIMUM,

  /**
   * Preferred, not required: among the workers that have a free slot and meet the required
   * properties, the scheduler picks one that offers the most of the action's values. An action
   * never waits for a preferred worker while another suitable worker is free.
   */
  PRIORITY,

  /**
   * Accepted and not used for matching, for properties that a worker interprets when it runs the
   * action rather than ones that choose the worker.
   */
  IGNORE
}
