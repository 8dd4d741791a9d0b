package build.hearth.grpc;

import build.hearth.api.ActionCache;
import build.hearth.api.ContentAddressableStorage;
import build.hearth.spi.transport.Transport;
import build.hearth.spi.transport.TransportContext;
import build.hearth.testing.TransportContractTest;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import org.junit.jupiter.api.AfterEach;

/** The "grpc" transport passes the transport suite over a loopback socket. */
class GrpcTransportContractTest extends TransportContractTest {
  private final TransportContractStores stores = new TransportContractStores();

  @Override
  protected Transport start(TransportContext context) {
    return new GrpcTransportProvider().start(context);
  }

  @Override
  protected ManagedChannel connect(Transport transport) {
    return ManagedChannelBuilder.forAddress("127.0.0.1", transport.port())
        .usePlaintext()
        .maxInboundMessageSize(64 << 20)
        .build();
  }

  @Override
  protected ContentAddressableStorage newCas() {
    return stores.cas();
  }

  @Override
  protected ActionCache newActionCache(ContentAddressableStorage cas) {
    return stores.actionCache(cas);
  }

  @AfterEach
  void closeStores() {
    stores.close();
  }
}
