/**
 * The REAPI v2 services the transport serves, each routing a request by its {@code instance_name}
 * to that instance's stores and executions: Capabilities, ContentAddressableStorage, ActionCache,
 * Execution, and the google.longrunning Operations that follow executions; with the field checks
 * they share ({@link build.hearth.grpc.reapi.Requests}). ByteStream, also part of REAPI, has its
 * own package, {@code build.hearth.grpc.bytestream}. Hearth-internal: the services are public only
 * so that the transport in {@code build.hearth.grpc} can construct them; nothing else may use them.
 * This package uses {@code build.hearth.grpc.common} and none of its other siblings.
 */
package build.hearth.grpc.reapi;
