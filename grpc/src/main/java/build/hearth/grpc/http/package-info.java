/**
 * The HTTP/1.1 side of the transport's one port: a protocol negotiator ({@link
 * build.hearth.grpc.http.SharedPortNegotiator}) that looks at a connection's first bytes and hands
 * HTTP/2 to gRPC and HTTP/1.1 {@code GET} and {@code HEAD} to the host's {@link
 * build.hearth.spi.transport.HttpRoutes} (metrics, health, admin), and a cumulator that spares
 * gRPC's HTTP/2 decoder a copy of split frames. The code that relies on grpc-java's
 * {@code @Internal} negotiator and Netty APIs lives here, so that an upgrade of grpc-java that
 * changes them touches this package (and the transport's one call that wraps the negotiator in
 * server credentials). Hearth-internal: the negotiator is public only so that the transport in
 * {@code build.hearth.grpc} can install it; nothing else may use this package. It uses none of its
 * sibling packages.
 */
package build.hearth.grpc.http;
