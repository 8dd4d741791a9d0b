package build.hearth.testing.transport;

import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.BatchReadBlobsRequest;
import build.bazel.remote.execution.v2.BatchReadBlobsResponse;
import build.bazel.remote.execution.v2.BatchUpdateBlobsRequest;
import build.bazel.remote.execution.v2.BatchUpdateBlobsResponse;
import build.bazel.remote.execution.v2.FindMissingBlobsRequest;
import build.bazel.remote.execution.v2.FindMissingBlobsResponse;
import build.bazel.remote.execution.v2.GetActionResultRequest;
import build.bazel.remote.execution.v2.GetCapabilitiesRequest;
import build.bazel.remote.execution.v2.ServerCapabilities;
import build.bazel.remote.execution.v2.UpdateActionResultRequest;
import com.google.bytestream.ByteStreamProto.QueryWriteStatusRequest;
import com.google.bytestream.ByteStreamProto.QueryWriteStatusResponse;
import com.google.bytestream.ByteStreamProto.ReadRequest;
import com.google.bytestream.ByteStreamProto.ReadResponse;
import com.google.bytestream.ByteStreamProto.WriteRequest;
import com.google.bytestream.ByteStreamProto.WriteResponse;
import com.google.protobuf.Message;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.MethodDescriptor;
import io.grpc.MethodDescriptor.MethodType;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import java.util.Iterator;
import java.util.concurrent.TimeUnit;

/**
 * A REAPI client over a plain {@link Channel}, from method descriptors written here: the generated
 * stubs live in hearth-grpc, which this module must not depend on (hearth-grpc's tests depend on
 * this module). The wire names are those of the REAPI and ByteStream protos. Thread-safe.
 */
final class ReapiCalls {
  private static final String REAPI = "build.bazel.remote.execution.v2.";
  private static final String BYTESTREAM = "google.bytestream.ByteStream";

  static final MethodDescriptor<GetCapabilitiesRequest, ServerCapabilities> GET_CAPABILITIES =
      method(
          MethodType.UNARY,
          REAPI + "Capabilities",
          "GetCapabilities",
          GetCapabilitiesRequest.getDefaultInstance(),
          ServerCapabilities.getDefaultInstance());
  static final MethodDescriptor<FindMissingBlobsRequest, FindMissingBlobsResponse> FIND_MISSING =
      method(
          MethodType.UNARY,
          REAPI + "ContentAddressableStorage",
          "FindMissingBlobs",
          FindMissingBlobsRequest.getDefaultInstance(),
          FindMissingBlobsResponse.getDefaultInstance());
  static final MethodDescriptor<BatchUpdateBlobsRequest, BatchUpdateBlobsResponse> BATCH_UPDATE =
      method(
          MethodType.UNARY,
          REAPI + "ContentAddressableStorage",
          "BatchUpdateBlobs",
          BatchUpdateBlobsRequest.getDefaultInstance(),
          BatchUpdateBlobsResponse.getDefaultInstance());
  static final MethodDescriptor<BatchReadBlobsRequest, BatchReadBlobsResponse> BATCH_READ =
      method(
          MethodType.UNARY,
          REAPI + "ContentAddressableStorage",
          "BatchReadBlobs",
          BatchReadBlobsRequest.getDefaultInstance(),
          BatchReadBlobsResponse.getDefaultInstance());
  static final MethodDescriptor<GetActionResultRequest, ActionResult> GET_ACTION_RESULT =
      method(
          MethodType.UNARY,
          REAPI + "ActionCache",
          "GetActionResult",
          GetActionResultRequest.getDefaultInstance(),
          ActionResult.getDefaultInstance());
  static final MethodDescriptor<UpdateActionResultRequest, ActionResult> UPDATE_ACTION_RESULT =
      method(
          MethodType.UNARY,
          REAPI + "ActionCache",
          "UpdateActionResult",
          UpdateActionResultRequest.getDefaultInstance(),
          ActionResult.getDefaultInstance());
  static final MethodDescriptor<ReadRequest, ReadResponse> READ =
      method(
          MethodType.SERVER_STREAMING,
          BYTESTREAM,
          "Read",
          ReadRequest.getDefaultInstance(),
          ReadResponse.getDefaultInstance());
  static final MethodDescriptor<WriteRequest, WriteResponse> WRITE =
      method(
          MethodType.CLIENT_STREAMING,
          BYTESTREAM,
          "Write",
          WriteRequest.getDefaultInstance(),
          WriteResponse.getDefaultInstance());
  static final MethodDescriptor<QueryWriteStatusRequest, QueryWriteStatusResponse>
      QUERY_WRITE_STATUS =
          method(
              MethodType.UNARY,
              BYTESTREAM,
              "QueryWriteStatus",
              QueryWriteStatusRequest.getDefaultInstance(),
              QueryWriteStatusResponse.getDefaultInstance());

  private final Channel channel;
  private final long timeoutSeconds;

  ReapiCalls(Channel channel, long timeoutSeconds) {
    this.channel = channel;
    this.timeoutSeconds = timeoutSeconds;
  }

  /** A blocking unary call with the suite's deadline; a failure is a StatusRuntimeException. */
  <Q, R> R unary(MethodDescriptor<Q, R> method, Q request) {
    return ClientCalls.blockingUnaryCall(channel, method, options(), request);
  }

  /** A blocking server-streaming call; the iterator throws StatusRuntimeException on failure. */
  <Q, R> Iterator<R> serverStreaming(MethodDescriptor<Q, R> method, Q request) {
    return ClientCalls.blockingServerStreamingCall(channel, method, options(), request);
  }

  /** Starts a client-streaming call; the caller drives the returned request observer. */
  <Q, R> StreamObserver<Q> clientStreaming(
      MethodDescriptor<Q, R> method, StreamObserver<R> responses) {
    return ClientCalls.asyncClientStreamingCall(channel.newCall(method, options()), responses);
  }

  private CallOptions options() {
    return CallOptions.DEFAULT.withDeadlineAfter(timeoutSeconds, TimeUnit.SECONDS);
  }

  private static <Q extends Message, R extends Message> MethodDescriptor<Q, R> method(
      MethodType type, String service, String name, Q request, R response) {
    return MethodDescriptor.<Q, R>newBuilder()
        .setType(type)
        .setFullMethodName(MethodDescriptor.generateFullMethodName(service, name))
        .setRequestMarshaller(ProtoUtils.marshaller(request))
        .setResponseMarshaller(ProtoUtils.marshaller(response))
        .build();
  }
}
