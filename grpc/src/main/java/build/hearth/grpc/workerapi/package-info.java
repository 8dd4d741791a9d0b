/**
 * The server side of Hearth's worker API, {@code hearth.worker.v1.WorkerApi}: workers in other
 * processes open one Connect stream each ({@link build.hearth.grpc.workerapi.WorkerStream}),
 * through which they register with the scheduler behind the host's {@link
 * build.hearth.spi.worker.WorkerHub}, receive assignments and cancellations, answer them, report
 * their warm persistent-worker processes and their status, and are dropped when they fall silent.
 * Hearth-internal: the service is public only so that the transport in {@code build.hearth.grpc}
 * can create and close it; nothing else may use this package. The worker's side of the stream is in
 * {@code build.hearth.agent} (hearth-worker-agent); what both sides share is in {@code
 * build.hearth.grpc.common}, the only sibling this package uses.
 */
package build.hearth.grpc.workerapi;
