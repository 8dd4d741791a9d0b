package build.hearth.grpc.security;

import static org.assertj.core.api.Assertions.assertThat;

import build.bazel.remote.execution.v2.ActionCacheGrpc;
import build.bazel.remote.execution.v2.CapabilitiesGrpc;
import build.bazel.remote.execution.v2.ContentAddressableStorageGrpc;
import build.bazel.remote.execution.v2.ExecutionGrpc;
import build.bazel.remote.execution.v2.GetCapabilitiesRequest;
import build.hearth.proto.workerapi.WorkerApiGrpc;
import build.hearth.spi.security.Permission;
import com.google.bytestream.ByteStreamGrpc;
import com.google.bytestream.ByteStreamProto.ReadRequest;
import com.google.bytestream.ByteStreamProto.WriteRequest;
import com.google.longrunning.OperationsGrpc;
import io.grpc.MethodDescriptor;
import io.grpc.ServiceDescriptor;
import java.util.List;
import org.junit.jupiter.api.Test;

class MethodPermissionsTest {
  /** Every service the gRPC transport binds. */
  private static final List<ServiceDescriptor> SERVED =
      List.of(
          CapabilitiesGrpc.getServiceDescriptor(),
          ContentAddressableStorageGrpc.getServiceDescriptor(),
          ByteStreamGrpc.getServiceDescriptor(),
          ActionCacheGrpc.getServiceDescriptor(),
          ExecutionGrpc.getServiceDescriptor(),
          OperationsGrpc.getServiceDescriptor(),
          WorkerApiGrpc.getServiceDescriptor());

  @Test
  void everyMethodOfEveryServedServiceHasAPermission() {
    for (ServiceDescriptor service : SERVED) {
      for (MethodDescriptor<?, ?> method : service.getMethods()) {
        assertThat(MethodPermissions.of(method.getFullMethodName()))
            .as(method.getFullMethodName())
            .isPresent();
      }
    }
  }

  @Test
  void anUnknownMethodHasNone() {
    assertThat(MethodPermissions.of("grpc.reflection.v1.ServerReflection/ServerReflectionInfo"))
        .isEmpty();
  }

  @Test
  void permissionsOfTheMethodsThatMatterMost() {
    assertThat(permission(ContentAddressableStorageGrpc.getBatchUpdateBlobsMethod()))
        .isEqualTo(Permission.WRITE);
    assertThat(permission(ByteStreamGrpc.getWriteMethod())).isEqualTo(Permission.WRITE);
    assertThat(permission(ByteStreamGrpc.getReadMethod())).isEqualTo(Permission.READ);
    assertThat(permission(ActionCacheGrpc.getUpdateActionResultMethod()))
        .isEqualTo(Permission.WRITE_ACTION_CACHE);
    assertThat(permission(ExecutionGrpc.getExecuteMethod())).isEqualTo(Permission.EXECUTE);
    assertThat(permission(OperationsGrpc.getCancelOperationMethod())).isEqualTo(Permission.EXECUTE);
    assertThat(permission(WorkerApiGrpc.getConnectMethod())).isEqualTo(Permission.WORKER);
  }

  @Test
  void instancesAreFoundInTheFirstMessage() {
    assertThat(
            instance(
                CapabilitiesGrpc.getGetCapabilitiesMethod(),
                GetCapabilitiesRequest.newBuilder().setInstanceName("team-a/x").build()))
        .isEqualTo("team-a/x");
    String hash = "a".repeat(64);
    assertThat(
            instance(
                ByteStreamGrpc.getReadMethod(),
                ReadRequest.newBuilder().setResourceName("ci/linux/blobs/" + hash + "/5").build()))
        .isEqualTo("ci/linux");
    assertThat(
            instance(
                ByteStreamGrpc.getWriteMethod(),
                WriteRequest.newBuilder()
                    .setResourceName("uploads/u-1/blobs/" + hash + "/5")
                    .build()))
        .isEmpty();
  }

  @Test
  void operationNamesStartWithTheirInstance() {
    assertThat(MethodPermissions.operationInstance("operations/123")).isEmpty();
    assertThat(MethodPermissions.operationInstance("team-a/x/operations/123"))
        .isEqualTo("team-a/x");
    assertThat(MethodPermissions.operationInstance("nonsense")).isEmpty();
  }

  private static Permission permission(MethodDescriptor<?, ?> method) {
    return MethodPermissions.of(method.getFullMethodName()).orElseThrow().permission();
  }

  private static String instance(MethodDescriptor<?, ?> method, Object request) {
    return MethodPermissions.of(method.getFullMethodName()).orElseThrow().instance().apply(request);
  }
}
