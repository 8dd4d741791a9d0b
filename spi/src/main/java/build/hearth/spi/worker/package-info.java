/**
 * The contract between a scheduler and the workers (executors) that run its actions, as a transport
 * sees it: what a worker registers with ({@link build.hearth.spi.worker.WorkerSpec}), what it
 * receives ({@link build.hearth.spi.worker.ExecutionTask} in a {@link
 * build.hearth.spi.worker.WorkAssignment}), what it answers ({@link
 * build.hearth.spi.worker.ActionOutcome}), and the {@link build.hearth.spi.worker.WorkerHub}
 * through which workers in other processes join a scheduler. A transport that serves a worker API
 * needs nothing beyond this package, {@code build.hearth.spi.transport} and the API.
 *
 * <p>"Worker" here always means an executor that registers with a scheduler; a persistent tool
 * process (Bazel's "persistent worker") runs inside such a worker and is not modelled here.
 */
package build.hearth.spi.worker;
