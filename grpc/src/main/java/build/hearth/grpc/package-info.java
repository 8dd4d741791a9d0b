/**
 * The gRPC transport: Hearth's REAPI v2 services (Capabilities, ContentAddressableStorage,
 * ByteStream, ActionCache, Execution) and google.longrunning Operations, served by a Netty server,
 * routed by instance name to the stores and executions of a {@link
 * build.hearth.spi.transport.TransportContext}; and Hearth's worker API, through which workers in
 * other processes join the scheduler. The same port also answers plain HTTP/1.1 GETs (metrics,
 * health, admin) from the host's {@link build.hearth.core.ops.HttpRoutes}. The same services can
 * instead be served without sockets, to clients in the same JVM, through grpc-java's in-process
 * transport. Three classes are public: {@link build.hearth.grpc.GrpcTransportProvider} and {@link
 * build.hearth.grpc.InProcessTransportProvider}, found through {@link java.util.ServiceLoader}
 * under the type names {@code "grpc"} and {@code "inprocess"}, and {@link
 * build.hearth.grpc.WorkerAgent}, the worker API's client that a worker process runs. Everything
 * else here is an implementation detail.
 */
package build.hearth.grpc;
