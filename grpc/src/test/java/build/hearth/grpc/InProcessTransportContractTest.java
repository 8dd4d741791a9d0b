package build.hearth.grpc;

import build.hearth.spi.transport.Transport;
import build.hearth.spi.transport.TransportContext;
import io.grpc.ManagedChannel;
import io.grpc.inprocess.InProcessChannelBuilder;

/** The "inprocess" transport passes the transport suite, reached by its documented name. */
class InProcessTransportContractTest extends MemoryTransportContractTest {

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
}
