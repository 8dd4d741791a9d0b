package build.hearth.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import build.bazel.remote.execution.v2.CapabilitiesGrpc;
import build.bazel.remote.execution.v2.GetCapabilitiesRequest;
import build.hearth.core.Storage;
import build.hearth.grpc.tls.TestCertificates;
import build.hearth.grpc.tls.TestCertificates.Authority;
import build.hearth.grpc.tls.TestCertificates.Issued;
import build.hearth.grpc.tls.TestCertificates.KeyType;
import build.hearth.spi.storage.BlobStore;
import build.hearth.spi.transport.InstanceServices;
import build.hearth.spi.transport.ServerLimits;
import build.hearth.spi.transport.TlsSettings;
import build.hearth.spi.transport.TransportContext;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code limits.handshakeTimeout} on a TLS port: it covers the TLS handshake too, and is lifted
 * once a client is through. (A handshake left half-way is also closed by Netty's own 10 s TLS
 * handshake timeout, so it proves nothing about this limit and is not tested here.)
 */
class TlsHandshakeDeadlineTest {
  /**
   * Short for a test, yet long enough for a first TLS handshake on a loaded two-core machine: at
   * 300 ms the deadline once cut a real client's handshake, which is the limit doing its job.
   */
  private static final Duration SHORT = Duration.ofSeconds(2);

  @TempDir Path dir;

  private BlobStore store;
  private GrpcTransport transport;
  private Path caFile;

  @BeforeEach
  void start() {
    Authority ca = TestCertificates.authority("Hearth test CA");
    caFile = ca.writeCertificate(dir.resolve("ca.pem"));
    Issued server = ca.server("localhost", KeyType.EC);
    store = MemoryStores.blobStore();
    transport =
        GrpcTransport.start(
            TransportContext.newBuilder("tls-deadline", "127.0.0.1", 0)
                .instance(new InstanceServices("", Storage.cas(store), Optional.empty(), true))
                .tls(
                    TlsSettings.newBuilder(
                            server.writeChain(dir.resolve("server.pem")),
                            server.writeKey(dir.resolve("server.key")))
                        .build())
                .limits(ServerLimits.newBuilder().handshakeTimeout(SHORT).build())
                .build(),
            GrpcSettings.defaults());
  }

  @AfterEach
  void stop() {
    transport.shutdown(Duration.ofSeconds(2));
    store.close();
  }

  @Test
  void aConnectionThatNeverStartsItsTlsHandshakeIsClosed() throws Exception {
    try (RawHttp silent = new RawHttp(transport.port())) {
      assertThat(silent.closedByServer()).isTrue();
    }
  }

  @Test
  void aTlsClientThatCompletesItsHandshakeIsServedLongAfterTheDeadline() throws Exception {
    ManagedChannel channel =
        NettyChannelBuilder.forAddress("localhost", transport.port())
            .sslContext(GrpcSslContexts.forClient().trustManager(caFile.toFile()).build())
            .build();
    try {
      var stub = CapabilitiesGrpc.newBlockingStub(channel);
      for (int i = 0; i < 3; i++) {
        assertThat(
                LoopbackServer.withTimeout(stub)
                    .getCapabilities(GetCapabilitiesRequest.getDefaultInstance())
                    .getLowApiVersion()
                    .getMajor())
            .isEqualTo(2);
        await().pollDelay(SHORT).atMost(SHORT.multipliedBy(10)).until(() -> true);
        // Still the same connection: one the deadline closed would have left READY.
        assertThat(channel.getState(false)).isEqualTo(ConnectivityState.READY);
      }
    } finally {
      channel.shutdownNow();
    }
  }
}
