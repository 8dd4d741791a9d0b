package build.hearth.grpc.security;

import build.bazel.remote.execution.v2.ActionCacheGrpc;
import build.bazel.remote.execution.v2.BatchReadBlobsRequest;
import build.bazel.remote.execution.v2.BatchUpdateBlobsRequest;
import build.bazel.remote.execution.v2.CapabilitiesGrpc;
import build.bazel.remote.execution.v2.ContentAddressableStorageGrpc;
import build.bazel.remote.execution.v2.ExecuteRequest;
import build.bazel.remote.execution.v2.ExecutionGrpc;
import build.bazel.remote.execution.v2.FindMissingBlobsRequest;
import build.bazel.remote.execution.v2.GetActionResultRequest;
import build.bazel.remote.execution.v2.GetCapabilitiesRequest;
import build.bazel.remote.execution.v2.GetTreeRequest;
import build.bazel.remote.execution.v2.UpdateActionResultRequest;
import build.bazel.remote.execution.v2.WaitExecutionRequest;
import build.hearth.grpc.bytestream.ByteStreamInstances;
import build.hearth.proto.workerapi.WorkerApiGrpc;
import build.hearth.spi.security.Permission;
import com.google.bytestream.ByteStreamGrpc;
import com.google.longrunning.CancelOperationRequest;
import com.google.longrunning.DeleteOperationRequest;
import com.google.longrunning.GetOperationRequest;
import com.google.longrunning.ListOperationsRequest;
import com.google.longrunning.OperationsGrpc;
import com.google.longrunning.WaitOperationRequest;
import io.grpc.MethodDescriptor;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * The one table of what each gRPC method needs: its permission and, for per-instance permissions,
 * how to find the instance in the call's first request message. A method not in the table is
 * refused, so a service added without an entry fails closed.
 */
final class MethodPermissions {
  /**
   * What a method needs.
   *
   * @param permission the permission
   * @param instance the instance of the first request message; null for server-wide permissions. It
   *     throws {@link build.hearth.api.HearthException} for a malformed name, as the service would
   */
  record Rule(Permission permission, Function<Object, String> instance) {}

  private static final Map<String, Rule> RULES = new HashMap<>();

  static {
    // Capabilities
    add(
        CapabilitiesGrpc.getGetCapabilitiesMethod(),
        Permission.READ,
        r -> ((GetCapabilitiesRequest) r).getInstanceName());
    // ContentAddressableStorage
    add(
        ContentAddressableStorageGrpc.getFindMissingBlobsMethod(),
        Permission.READ,
        r -> ((FindMissingBlobsRequest) r).getInstanceName());
    add(
        ContentAddressableStorageGrpc.getBatchReadBlobsMethod(),
        Permission.READ,
        r -> ((BatchReadBlobsRequest) r).getInstanceName());
    add(
        ContentAddressableStorageGrpc.getGetTreeMethod(),
        Permission.READ,
        r -> ((GetTreeRequest) r).getInstanceName());
    add(
        ContentAddressableStorageGrpc.getBatchUpdateBlobsMethod(),
        Permission.WRITE,
        r -> ((BatchUpdateBlobsRequest) r).getInstanceName());
    // ByteStream: the instance is in the resource name, parsed as the service parses it.
    add(ByteStreamGrpc.getReadMethod(), Permission.READ, MethodPermissions::byteStream);
    add(ByteStreamGrpc.getWriteMethod(), Permission.WRITE, MethodPermissions::byteStream);
    add(
        ByteStreamGrpc.getQueryWriteStatusMethod(),
        Permission.WRITE,
        MethodPermissions::byteStream);
    // ActionCache
    add(
        ActionCacheGrpc.getGetActionResultMethod(),
        Permission.READ,
        r -> ((GetActionResultRequest) r).getInstanceName());
    add(
        ActionCacheGrpc.getUpdateActionResultMethod(),
        Permission.WRITE_ACTION_CACHE,
        r -> ((UpdateActionResultRequest) r).getInstanceName());
    // Execution and operations: an operation's name starts with its instance.
    add(
        ExecutionGrpc.getExecuteMethod(),
        Permission.EXECUTE,
        r -> ((ExecuteRequest) r).getInstanceName());
    add(
        ExecutionGrpc.getWaitExecutionMethod(),
        Permission.EXECUTE,
        r -> operationInstance(((WaitExecutionRequest) r).getName()));
    add(
        OperationsGrpc.getGetOperationMethod(),
        Permission.EXECUTE,
        r -> operationInstance(((GetOperationRequest) r).getName()));
    add(
        OperationsGrpc.getWaitOperationMethod(),
        Permission.EXECUTE,
        r -> operationInstance(((WaitOperationRequest) r).getName()));
    add(
        OperationsGrpc.getCancelOperationMethod(),
        Permission.EXECUTE,
        r -> operationInstance(((CancelOperationRequest) r).getName()));
    add(
        OperationsGrpc.getDeleteOperationMethod(),
        Permission.EXECUTE,
        r -> operationInstance(((DeleteOperationRequest) r).getName()));
    add(
        OperationsGrpc.getListOperationsMethod(),
        Permission.EXECUTE,
        r -> operationInstance(((ListOperationsRequest) r).getName() + "/"));
    // The worker API: server-wide.
    add(WorkerApiGrpc.getConnectMethod(), Permission.WORKER, null);
  }

  private MethodPermissions() {}

  private static void add(
      MethodDescriptor<?, ?> method, Permission permission, Function<Object, String> instance) {
    if ((instance == null) != permission.serverWide()) {
      throw new IllegalStateException(method.getFullMethodName() + ": instance rule mismatch");
    }
    RULES.put(method.getFullMethodName(), new Rule(permission, instance));
  }

  /** {@return what the method of this full name ({@code package.Service/Method}) needs} */
  static Optional<Rule> of(String fullMethodName) {
    return Optional.ofNullable(RULES.get(fullMethodName));
  }

  private static String byteStream(Object request) {
    return ByteStreamInstances.of(request)
        .orElseThrow(
            () -> new IllegalArgumentException("not a ByteStream request: " + request.getClass()));
  }

  /**
   * The instance of an operation name: {@code INSTANCE/operations/UUID}, or {@code operations/UUID}
   * for the default instance. Instance names cannot contain an {@code operations} segment, so the
   * first one ends the instance, as the execution service's prefix match does. A name without one
   * belongs to no instance's execution service; it is checked against the default instance and then
   * not found.
   */
  static String operationInstance(String name) {
    if (name.startsWith("operations/")) {
      return "";
    }
    int at = name.indexOf("/operations/");
    return at < 0 ? "" : name.substring(0, at);
  }
}
