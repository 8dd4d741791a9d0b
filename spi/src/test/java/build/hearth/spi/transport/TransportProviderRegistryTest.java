package build.hearth.spi.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import build.hearth.api.ConfigException;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class TransportProviderRegistryTest {

  @Test
  void discoverySkipsBrokenAndUnavailableProviders() {
    TransportProviderRegistry registry =
        TransportProviderRegistry.discover(getClass().getClassLoader());

    // A class that does not exist, a constructor and a type() that throw, and an unavailable
    // provider are all listed in this module's test services file; only the working one remains.
    assertThat(registry.types()).containsExactly("quic");
    assertThat(registry.provider("quic", "servers[0].transport", 3)).isInstanceOf(Quic.class);
  }

  @Test
  void theHigherPriorityWinsAType() {
    Named low = new Named("grpc", 5);
    Named high = new Named("grpc", 10);
    Named other = new Named("inprocess", 5);

    TransportProviderRegistry registry = TransportProviderRegistry.of(List.of(low, high, other));

    assertThat(registry.types()).containsExactly("grpc", "inprocess");
    assertThat(registry.provider("grpc", "servers[0].transport", 0)).isSameAs(high);
    assertThat(TransportProviderRegistry.of(List.of(high, low)).provider("grpc", "p", 0))
        .isSameAs(high);
  }

  @Test
  void anUnknownTypeNamesThePathAndTheKnownTypesWithTheirJars() {
    TransportProviderRegistry registry =
        TransportProviderRegistry.of(List.of(new Named("grpc", 5), new Unavailable()));

    assertThatThrownBy(() -> registry.provider("quic", "servers[2].transport", 14))
        .isInstanceOfSatisfying(
            ConfigException.class,
            e -> {
              assertThat(e.path()).isEqualTo("servers[2].transport");
              assertThat(e.line()).isEqualTo(14);
              assertThat(e.getMessage())
                  .contains("unknown transport 'quic'")
                  .contains("known transports: 'grpc' (from test-classes)")
                  .doesNotContain("unavailable");
            });
  }

  @Test
  void anEmptyRegistrySaysSo() {
    assertThatThrownBy(() -> TransportProviderRegistry.of(List.of()).provider("grpc", "t", 0))
        .hasMessageContaining("known transports: none");
  }

  /** A provider with a type and priority chosen by the test. */
  static final class Named extends TransportProvider {
    private final String type;
    private final int priority;

    Named(String type, int priority) {
      this.type = type;
      this.priority = priority;
    }

    @Override
    public String type() {
      return type;
    }

    @Override
    public int priority() {
      return priority;
    }

    @Override
    public Transport start(TransportContext context) {
      throw new UnsupportedOperationException();
    }
  }

  /** The one working provider of the services file. */
  public static final class Quic extends TransportProvider {
    @Override
    public String type() {
      return "quic";
    }

    @Override
    public Transport start(TransportContext context) {
      return new Transport() {
        @Override
        public int port() {
          return -1;
        }

        @Override
        public void shutdown(Duration grace) {}
      };
    }
  }

  /** Fails while {@link java.util.ServiceLoader} instantiates it. */
  public static final class ThrowsInConstructor extends TransportProvider {
    public ThrowsInConstructor() {
      throw new IllegalStateException("broken plugin");
    }

    @Override
    public String type() {
      return "broken";
    }

    @Override
    public Transport start(TransportContext context) {
      throw new UnsupportedOperationException();
    }
  }

  /** Loads, but cannot say its type. */
  public static final class ThrowsInType extends TransportProvider {
    @Override
    public String type() {
      throw new IllegalStateException("no type");
    }

    @Override
    public Transport start(TransportContext context) {
      throw new UnsupportedOperationException();
    }
  }

  /** Loads, but does not work in this process. */
  public static final class Unavailable extends TransportProvider {
    @Override
    public String type() {
      return "unavailable";
    }

    @Override
    public boolean isAvailable() {
      return false;
    }

    @Override
    public Transport start(TransportContext context) {
      throw new UnsupportedOperationException();
    }
  }
}
