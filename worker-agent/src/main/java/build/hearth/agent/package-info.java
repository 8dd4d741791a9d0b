/**
 * The remote worker's client, what {@code hearth worker} runs on another machine: {@link
 * build.hearth.agent.WorkerAgent} joins a scheduler over Hearth's worker API, runs the actions it
 * is assigned with an {@link build.hearth.core.execution.ActionRunner}, and reads inputs and writes
 * outputs through a CAS client over REAPI (batches and ByteStream), with reconnection and back-off.
 * {@link build.hearth.agent.WorkerAgent} and its builder are the public API, for the command line
 * and for embedders who run a worker in their own process; everything else here is an
 * implementation detail. This package uses the generated stubs of hearth-grpc and {@code
 * build.hearth.grpc.common}, and nothing of the server side ({@code build.hearth.grpc} and its
 * {@code reapi}, {@code bytestream}, {@code http} and {@code workerapi} packages).
 */
package build.hearth.agent;
