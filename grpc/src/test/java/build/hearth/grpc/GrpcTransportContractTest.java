package build.hearth.grpc;

import build.hearth.spi.transport.Transport;
import build.hearth.spi.transport.TransportContext;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;

/** The "grpc" transport passes the transport suite over a loopback socket. */
class GrpcTransportContractTest extends MemoryTransportContractTest {

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
}
