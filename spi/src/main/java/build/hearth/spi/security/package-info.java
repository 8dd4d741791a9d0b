/**
 * Who is calling and what they may do: the security SPI a transport uses at its edge. A transport
 * gathers a caller's {@link build.hearth.spi.security.Credentials} (remote address, TLS peer
 * certificates, bearer token), asks the server's {@link build.hearth.spi.security.AccessControl} to
 * turn them into an {@link build.hearth.spi.security.Identity}, and asks it once per call whether
 * that identity holds the call's {@link build.hearth.spi.security.Permission} on the call's
 * instance. Services behind the transport never parse credentials themselves.
 */
package build.hearth.spi.security;
