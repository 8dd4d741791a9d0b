/**
 * Hearth's embedding API: the content-addressable store, the action cache and the value types (such
 * as {@link build.hearth.api.Digest}) that a build server written in Java calls directly. Nothing
 * here depends on gRPC, Netty or Jackson.
 */
package build.hearth.api;
