/**
 * The transport SPI: how Hearth's services reach clients. A {@link
 * build.hearth.spi.transport.TransportProvider} (gRPC is built in) starts a {@link
 * build.hearth.spi.transport.Transport} for a {@link build.hearth.spi.transport.TransportContext}
 * that names the listen address and each instance's services.
 */
package build.hearth.spi.transport;
