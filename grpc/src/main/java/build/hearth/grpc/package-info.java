/**
 * The gRPC transport: Hearth's REAPI v2 services (Capabilities, ContentAddressableStorage,
 * ByteStream, ActionCache) served by a Netty server, routed by instance name to the stores of a
 * {@link build.hearth.spi.transport.TransportContext}. Only {@link
 * build.hearth.grpc.GrpcTransportProvider} is public; it is found through {@link
 * java.util.ServiceLoader} under the type name {@code "grpc"}, and everything else here is an
 * implementation detail.
 */
package build.hearth.grpc;
