package build.hearth.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import build.bazel.remote.execution.v2.CapabilitiesGrpc;
import build.bazel.remote.execution.v2.GetCapabilitiesRequest;
import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import build.hearth.core.Storage;
import build.hearth.spi.storage.BlobStore;
import build.hearth.spi.transport.InstanceServices;
import build.hearth.spi.transport.Transport;
import build.hearth.spi.transport.TransportContext;
import build.hearth.spi.transport.TransportProvider;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class GrpcTransportProviderTest {
  private BlobStore store;

  @BeforeEach
  void openStore() {
    store = MemoryStores.blobStore();
  }

  @AfterEach
  void closeStore() {
    store.close();
  }

  private TransportContext context(String serverName, String host, int port, String instance) {
    return TransportContext.newBuilder(serverName, host, port)
        .instance(new InstanceServices(instance, Storage.cas(store), Optional.empty(), true))
        .build();
  }

  private static TransportProvider discovered() {
    return ServiceLoader.load(TransportProvider.class).stream()
        .map(ServiceLoader.Provider::get)
        .filter(p -> p.type().equals("grpc"))
        .findFirst()
        .orElseThrow();
  }

  private static int maxBatch(int port, String instance) {
    ManagedChannel channel =
        ManagedChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
    try {
      return (int)
          CapabilitiesGrpc.newBlockingStub(channel)
              .withDeadlineAfter(10, TimeUnit.SECONDS)
              .getCapabilities(
                  GetCapabilitiesRequest.newBuilder().setInstanceName(instance).build())
              .getCacheCapabilities()
              .getMaxBatchTotalSizeBytes();
    } finally {
      channel.shutdownNow();
    }
  }

  @Test
  void isFoundByServiceLoaderAndServesOnTheBoundPort() {
    TransportProvider provider = discovered();
    assertThat(provider).isInstanceOf(GrpcTransportProvider.class);
    assertThat(provider.isAvailable()).isTrue();

    try (Transport transport = provider.start(context("main", "127.0.0.1", 0, ""))) {
      assertThat(transport.port()).isPositive();
      assertThat(maxBatch(transport.port(), "")).isEqualTo(4 << 20);
    }
  }

  @Test
  void twoTransportsLiveInOneJvm() {
    TransportProvider provider = new GrpcTransportProvider();
    try (Transport a = provider.start(context("a", "127.0.0.1", 0, "a"));
        Transport b = provider.start(context("b", "127.0.0.1", 0, "b"))) {
      assertThat(a.port()).isNotEqualTo(b.port());
      assertThat(maxBatch(a.port(), "a")).isPositive();
      assertThat(maxBatch(b.port(), "b")).isPositive();
    }
  }

  @Test
  void aPortInUseIsUnavailableNamingTheAddress() throws IOException {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      int port = taken.getLocalPort();
      assertThatThrownBy(
              () -> new GrpcTransportProvider().start(context("main", "127.0.0.1", port, "")))
          .isInstanceOfSatisfying(
              HearthException.class,
              e -> {
                assertThat(e.code()).isEqualTo(StatusCode.UNAVAILABLE);
                assertThat(e.getMessage())
                    .startsWith(
                        "cannot listen on 127.0.0.1:"
                            + port
                            + ": the address is already in use (another Hearth or program"
                            + " listens there); stop it or choose another port with \"listen\"");
              });
    }
    assertNoThreadsLeft("hearth-grpc-main-");
  }

  @Test
  void anUnknownHostIsUnavailable() {
    assertThatThrownBy(
            () -> new GrpcTransportProvider().start(context("main", "no-such-host.invalid", 0, "")))
        .isInstanceOfSatisfying(
            HearthException.class,
            e -> {
              assertThat(e.code()).isEqualTo(StatusCode.UNAVAILABLE);
              assertThat(e.getMessage())
                  .contains("cannot listen on no-such-host.invalid:0", "unknown host");
            });
  }

  @Test
  void shutdownReleasesThreadsAndIsIdempotent() {
    Transport transport = new GrpcTransportProvider().start(context("closing", "127.0.0.1", 0, ""));
    int port = transport.port();
    assertThat(maxBatch(port, "")).isPositive();

    transport.shutdown(Duration.ofSeconds(1));
    transport.shutdown(Duration.ofSeconds(1));
    transport.close();

    assertNoThreadsLeft("hearth-grpc-closing-");
  }

  private static void assertNoThreadsLeft(String prefix) {
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                Thread.getAllStackTraces().keySet().stream()
                    .noneMatch(t -> t.getName().startsWith(prefix) && t.isAlive()));
  }
}
