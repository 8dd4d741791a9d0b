/**
 * The {@code hearth} command line and {@link build.hearth.server.HearthServer}, which runs the
 * stores and transports a configuration describes.
 */
package build.hearth.server;
