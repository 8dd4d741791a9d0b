/**
 * {@code google.bytestream.ByteStream} for the CAS: reads paced to the client, and writes whose
 * chunks are parsed in place from the network's buffers ({@link
 * build.hearth.grpc.bytestream.InboundWriteMarshaller}), requested ahead in batches, hashed on the
 * way into the store, and kept as resumable upload sessions when a stream breaks off ({@link
 * build.hearth.grpc.bytestream.UploadSessions}). Hearth-internal: the service and the sessions are
 * public only so that the transport in {@code build.hearth.grpc} can create them, sweep idle
 * sessions and close them; nothing else may use them. This package uses {@code
 * build.hearth.grpc.common} and none of its other siblings.
 */
package build.hearth.grpc.bytestream;
