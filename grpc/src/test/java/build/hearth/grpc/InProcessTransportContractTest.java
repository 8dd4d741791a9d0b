package build.hearth.grpc;

import build.hearth.api.ActionCache;
import build.hearth.api.ContentAddressableStorage;
import build.hearth.spi.transport.Transport;
import build.hearth.spi.transport.TransportContext;
import build.hearth.testing.TransportContractTest;
import io.grpc.ManagedChannel;
import io.grpc.inprocess.InProcessChannelBuilder;
import org.junit.jupiter.api.AfterEach;

/** The "inprocess" transport passes the transport suite, reached by its documented name. */
class InProcessTransportContractTest extends TransportContractTest {
  private final TransportContractStores stores = new TransportContractStores();

  @Override
  protected Transport start(TransportContext context) {
    return new InProcessTransportProvider().start(context);
  }

  @Override
  protected ManagedChannel connect(Transport transport) {
    return InProcessChannelBuilder.forName("hearth-" + serverName())
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
