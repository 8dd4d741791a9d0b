/**
 * Running actions on this machine: {@link build.hearth.core.worker.LocalActionRunner} turns one
 * {@link build.hearth.spi.worker.ExecutionTask} into a process (exec root from the local CAS cache,
 * the command's exact arguments, environment and working directory, its timeout and cancellation
 * enforced by killing the whole process tree) and its outputs, stdout and stderr into an {@code
 * ActionResult} in the instance's CAS; {@link build.hearth.core.worker.LocalWorker} runs several of
 * them at once as a worker connected to the scheduler. Used by the in-process worker of a server
 * and by the separate {@code hearth worker} process alike. Every process, an action's or a
 * persistent worker's tool process, is started through one {@link
 * build.hearth.core.process.ProcessLauncher}, so that tests and embedders can replace it; the rest
 * of the package is package-private.
 */
package build.hearth.core.worker;
