/**
 * TLS for the transport's one port, and the PEM reading Hearth's clients share. {@link
 * build.hearth.grpc.tls.ServerTls} holds a server's certificate chain, key and client CA bundle,
 * reads them again when their files change, and makes the per-connection handler that runs the
 * handshake (TLS 1.2 and 1.3, ALPN {@code http/1.1} and {@code h2}, client certificates none,
 * optional or required) before the shared port's protocol sniffer in {@code build.hearth.grpc.http}
 * decides between gRPC and the HTTP routes. {@link build.hearth.grpc.tls.PemFiles} reads PEM
 * certificates and PKCS#8 keys with errors that name the file and the fix.
 *
 * <p><b>Where the peer's certificates are.</b> On a gRPC call, exactly as with grpc-java's own
 * server TLS: {@code call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION)} is the connection's
 * {@link javax.net.ssl.SSLSession} ({@code getPeerCertificates()} throws {@link
 * javax.net.ssl.SSLPeerUnverifiedException} when the client sent none), and {@code
 * GrpcAttributes.ATTR_SECURITY_LEVEL} is {@code PRIVACY_AND_INTEGRITY}; a plaintext port has no
 * session there. On the HTTP routes' side, the {@code SslHandler} stays in the connection's
 * pipeline: {@code ctx.pipeline().get(SslHandler.class)} is null on a plaintext connection, else
 * {@code .engine().getSession()} is the same session.
 *
 * <p>This package and {@code build.hearth.grpc.http} are the only users of grpc-java's
 * {@code @Internal} APIs (the negotiation event and its attributes). It uses none of the service
 * packages; the transport in {@code build.hearth.grpc} assembles it, and Hearth's clients may use
 * {@link build.hearth.grpc.tls.PemFiles}.
 */
package build.hearth.grpc.tls;
