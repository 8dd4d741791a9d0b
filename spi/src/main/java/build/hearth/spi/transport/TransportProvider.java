package build.hearth.spi.transport;

/**
 * Serves Hearth's services to clients over some wire, such as gRPC. Discovered by {@link
 * TransportProviderRegistry} with {@link java.util.ServiceLoader} from {@code
 * META-INF/services/build.hearth.spi.transport.TransportProvider} (or a module's {@code provides});
 * subclasses have a public no-argument constructor. {@link #type()}, {@link #isAvailable()} and
 * {@link #priority()} are cheap and return the same answer each time; one that throws makes the
 * registry skip the provider with a warning in the log. A provider is stateless: each {@link
 * #start} returns a transport that owns its own server and threads, so several can run in one JVM.
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
   * Breaks ties when two providers claim the same type: the higher priority wins. The built-in
   * transports use 5; a plugin that wants to replace one uses more.
   *
   * @return 5 by default
   */
  public int priority() {
    return 5;
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
