package build.hearth.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import build.bazel.remote.execution.v2.CapabilitiesGrpc;
import build.bazel.remote.execution.v2.GetCapabilitiesRequest;
import build.hearth.api.ConfigException;
import build.hearth.core.config.HearthConfig;
import build.hearth.spi.transport.TransportProviderRegistry;
import io.grpc.ManagedChannel;
import io.grpc.inprocess.InProcessChannelBuilder;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** {@code servers[].transport} chooses among the discovered transports. */
class TransportChoiceTest {

  private static HearthConfig config(String name, String transport) {
    return HearthConfig.parse(
        """
        {
          "blobStores": { "cas": { "type": "memory" } },
          "servers": [ {
            "name": "%s",
            "listen": "127.0.0.1:0",
            "transport": "%s",
            "instances": { "": { "cas": "cas" } }
          } ]
        }
        """
            .formatted(name, transport),
        "test");
  }

  @Test
  void bothBuiltInTransportsAreDiscovered() {
    assertThat(TransportProviderRegistry.discover(HearthServer.class.getClassLoader()).types())
        .contains("grpc", "inprocess");
  }

  @Test
  void inprocessServesUnderHearthPlusTheServerName() throws InterruptedException {
    String name = "choice-" + System.nanoTime();
    try (HearthServer server = HearthServer.start(config(name, "inprocess"))) {
      assertThat(server.port()).isEqualTo(-1);
      ManagedChannel channel = InProcessChannelBuilder.forName("hearth-" + name).build();
      try {
        assertThat(
                CapabilitiesGrpc.newBlockingStub(channel)
                    .withDeadlineAfter(20, TimeUnit.SECONDS)
                    .getCapabilities(GetCapabilitiesRequest.getDefaultInstance())
                    .getLowApiVersion()
                    .getMajor())
            .isEqualTo(2);
      } finally {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void twoInProcessServersWithOneNameFailClearly() {
    String name = "twice-" + System.nanoTime();
    try (HearthServer first = HearthServer.start(config(name, "inprocess"))) {
      assertThatThrownBy(() -> HearthServer.start(config(name, "inprocess")))
          .hasMessageContaining("hearth-" + name)
          .hasMessageContaining("another name");
    }
  }

  @Test
  void unknownTransportNamesThePathAndTheKnownTypes() {
    assertThatThrownBy(() -> HearthServer.start(config("x", "quic")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("servers[0].transport (line 6)")
        .hasMessageContaining("unknown transport 'quic'")
        .hasMessageContaining("'grpc'")
        .hasMessageContaining("'inprocess'");
  }

  @Test
  void emptyTransportIsRefusedByTheConfiguration() {
    assertThatThrownBy(() -> config("x", ""))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("servers[0].transport")
        .hasMessageContaining("\"inprocess\"");
  }

  @Test
  void transportDefaultsToGrpc() {
    HearthConfig config =
        HearthConfig.parse(
            """
            {"blobStores": {"cas": {"type": "memory"}},
             "servers": [{"listen": "127.0.0.1:0", "instances": {"": {"cas": "cas"}}}]}
            """,
            "test");
    assertThat(config.servers().get(0).transport()).isEqualTo("grpc");
    assertThat(config.servers().get(0).transportLine()).isZero();
  }
}
