package build.hearth.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import build.bazel.remote.execution.v2.CapabilitiesGrpc;
import build.bazel.remote.execution.v2.GetCapabilitiesRequest;
import build.hearth.core.Storage;
import build.hearth.core.config.AccessConfig;
import build.hearth.core.config.HearthConfig;
import build.hearth.core.security.ConfiguredAccessControl;
import build.hearth.spi.storage.BlobStore;
import build.hearth.spi.transport.InstanceServices;
import build.hearth.spi.transport.TransportContext;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** A caller through the in-process transport is as local as loopback, and no more. */
class InProcessAccessTest {
  private static AccessConfig access(String fields) {
    return HearthConfig.parse(
            """
            {"blobStores": {"cas": {"type": "memory"}},
             "servers": [{"listen": "127.0.0.1:0", "instances": {"": {"cas": "cas"}}%s}]}
            """
                .formatted(fields),
            "test.json")
        .servers()
        .get(0)
        .access();
  }

  private static Status capabilities(String name, AccessConfig access) throws Exception {
    BlobStore store = MemoryStores.blobStore();
    GrpcTransport transport =
        GrpcTransport.startInProcess(
            TransportContext.newBuilder(name, "127.0.0.1", 0)
                .instance(new InstanceServices("", Storage.cas(store), Optional.empty(), true))
                .accessControl(ConfiguredAccessControl.newBuilder(name, access).build())
                .build(),
            GrpcSettings.defaults(),
            name);
    ManagedChannel channel = InProcessChannelBuilder.forName(name).build();
    try {
      StatusRuntimeException failure =
          catchThrowableOfType(
              StatusRuntimeException.class,
              () ->
                  CapabilitiesGrpc.newBlockingStub(channel)
                      .withDeadlineAfter(20, TimeUnit.SECONDS)
                      .getCapabilities(GetCapabilitiesRequest.getDefaultInstance()));
      return failure == null ? Status.OK : failure.getStatus();
    } finally {
      channel.shutdownNow();
      transport.shutdown(Duration.ofSeconds(2));
      store.close();
    }
  }

  @Test
  void inProcessCallersAreTrustedLikeLoopbackByDefault() throws Exception {
    assertThat(capabilities("access-default", access("")).getCode()).isEqualTo(Status.Code.OK);
  }

  @Test
  void inProcessCallersMustAuthenticateWhenLoopbackIsNotTrusted() throws Exception {
    Status status =
        capabilities(
            "access-untrusted",
            access(
                ", \"authentication\": {\"tokens\": [{\"name\": \"ci\", \"sha256\": \""
                    + "0".repeat(64)
                    + "\"}], \"trustLoopback\": false}"));

    assertThat(status.getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
  }
}
