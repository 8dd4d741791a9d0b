/**
 * The transport SPI: how Hearth's services reach clients. A {@link
 * build.hearth.spi.transport.TransportProvider} (gRPC is built in) starts a {@link
 * build.hearth.spi.transport.Transport} for a {@link build.hearth.spi.transport.TransportContext}
 * that names the listen address, each instance's services, the {@link
 * build.hearth.spi.worker.WorkerHub} remote workers join and the {@link
 * build.hearth.spi.transport.HttpRoutes} served beside the protocol. {@link
 * build.hearth.spi.transport.TransportProviderRegistry} finds the providers.
 */
package build.hearth.spi.transport;
