/**
 * The gRPC transport: Hearth's REAPI v2 services (Capabilities, ContentAddressableStorage,
 * ByteStream, ActionCache, Execution) and google.longrunning Operations, served by a Netty server,
 * routed by instance name to the stores and executions of a {@link
 * build.hearth.spi.transport.TransportContext}; and Hearth's worker API, through which workers in
 * other processes join the scheduler. The same port also answers plain HTTP/1.1 GETs (metrics,
 * health, admin) from the host's {@link build.hearth.spi.transport.HttpRoutes}. The same services
 * can instead be served without sockets, to clients in the same JVM, through grpc-java's in-process
 * transport. This package assembles the transport from its parts: the REAPI services in {@code
 * reapi}, ByteStream in {@code bytestream}, the HTTP side of the port in {@code http}, the worker
 * API in {@code workerapi}, and what they share in {@code common}. Two classes are public, and they
 * are the module's API: {@link build.hearth.grpc.GrpcTransportProvider} and {@link
 * build.hearth.grpc.InProcessTransportProvider}, found through {@link java.util.ServiceLoader}
 * under the type names {@code "grpc"} and {@code "inprocess"}. The subpackages are Hearth-internal;
 * the worker API's client, which a worker process runs, is {@code build.hearth.agent.WorkerAgent}
 * in hearth-worker-agent.
 */
package build.hearth.grpc;
