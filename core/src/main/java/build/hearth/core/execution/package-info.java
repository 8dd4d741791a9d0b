/**
 * Remote execution in the engine: the execution service (action-cache lookups, merging of identical
 * in-flight actions, operations), the task and outcome types that pass through the scheduler to
 * workers, and the {@link build.hearth.core.execution.ActionRunner} that workers use to run an
 * action.
 */
package build.hearth.core.execution;
