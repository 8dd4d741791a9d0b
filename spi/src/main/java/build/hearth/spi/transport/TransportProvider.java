package build.hearth.spi.transport;

/**
 * Serves Hearth's services to clients over some wire, such as gRPC. Discovered with {@link
 * java.util.ServiceLoader} from {@code
 * META-INF/services/build.hearth.spi.transport.TransportProvider}; subclasses have a public
 * no-argument constructor. A provider is stateless: each {@link #start} returns a transport that
 * owns its own server and threads, so several can run in one JVM.
 *
 * <pre>{@code
 * Transport transport = provider.start(
 *     TransportContext.newBuilder("main", "127.0.0.1", 0).instance(instance).build());
 * int port = transport.port(); // the port that was picked
 * }</pre>
 */
public abstract class TransportProvider {

  /**
   * For subclasses, which {@link java.util.ServiceLoader} creates through their public no-argument
   * constructor.
   */
  protected TransportProvider() {}

  /** {@return the transport's name, such as {@code "grpc"}, by which a configuration chooses it} */
  public abstract String type();

  /**
   * {@return whether this transport can work in this process; true by default} Unavailable
   * transports are skipped during discovery.
   */
  public boolean isAvailable() {
    return true;
  }

  /**
   * Binds the listen address in {@code context} and starts serving its instances.
   *
   * @param context what to serve and where
   * @return the running transport; the caller shuts it down
   * @throws build.hearth.api.HearthException UNAVAILABLE if the address cannot be bound
   */
  public abstract Transport start(TransportContext context);
}
