package build.hearth.spi.transport;

/**
 * Serves Hearth's services to clients over some wire, such as gRPC. Discovered with {@link
 * java.util.ServiceLoader} from {@code
 * META-INF/services/build.hearth.spi.transport.TransportProvider}; subclasses have a public
 * no-argument constructor.
 */
public abstract class TransportProvider {

  /** The transport's name, such as {@code "grpc"}. */
  public abstract String type();

  /** Whether this transport can work in this process. */
  public boolean isAvailable() {
    return true;
  }

  /**
   * Binds the listen address in {@code context} and starts serving its instances.
   *
   * @throws build.hearth.api.HearthException UNAVAILABLE if the address cannot be bound
   */
  public abstract Transport start(TransportContext context);
}
