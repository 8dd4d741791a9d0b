/**
 * Hearth's embedding API: the content-addressable store, action cache and execution service a build
 * tool calls in its own process, and the values and errors they share.
 *
 * <p>The REAPI messages ({@code build.hearth.proto}) and protobuf's {@code ByteString} appear in
 * the signatures here, so both are read transitively: an embedder that requires this module can use
 * them without naming them.
 */
module build.hearth.api {
  requires transitive build.hearth.proto;
  requires transitive com.google.protobuf;
  // The REAPI messages embed google.rpc.Status (ExecuteResponse.status, per-blob batch results),
  // and build.hearth.proto, being an automatic module, cannot pass that readability on. The jar
  // names no module, so this is the name the JDK derives from its Maven file name.
  requires transitive proto.google.common.protos;

  exports build.hearth.api;
}
