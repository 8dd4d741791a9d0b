/**
 * Identity and permission at the edge of the gRPC transport: one server interceptor ({@link
 * build.hearth.grpc.security.AccessInterceptor}) on every service authenticates each call from its
 * bearer token, TLS peer certificates and remote address, finds the call's instance in its first
 * message, and checks the one permission the method needs ({@link
 * build.hearth.grpc.security.MethodPermissions}) before the service sees anything. Services read
 * the caller's identity from {@link build.hearth.grpc.security.CallIdentity}.
 */
package build.hearth.grpc.security;
