/**
 * What the server side of the gRPC transport and the remote worker's client ({@code
 * build.hearth.agent}, in hearth-worker-agent) both use: the one mapping between Hearth's errors
 * and gRPC statuses ({@link build.hearth.grpc.common.Rpc}), a sender that lets many threads share
 * one stream ({@link build.hearth.grpc.common.SerialObserver}), a flow-controlled sender of
 * streaming responses, routing by instance name, the persistent-worker statistics' messages, and
 * the rules of the worker API both ends of a worker stream apply ({@link
 * build.hearth.grpc.common.WorkerApiProtocol}). Hearth-internal: the classes are public only so
 * that the transport's other packages and hearth-worker-agent can reach them; embedders and plugins
 * must not use them. This package uses none of its sibling packages ({@code reapi}, {@code
 * bytestream}, {@code http}, {@code workerapi}) nor the transport at {@code build.hearth.grpc}.
 */
package build.hearth.grpc.common;
