package build.hearth.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class EndpointTest {

  @Test
  void acceptsTheUsualForms() {
    assertThat(Endpoint.parse("http://host:50052"))
        .isEqualTo(endpoint("http://host:50052", "host", 50052, false));
    assertThat(Endpoint.parse("grpc://10.0.0.1:1234/"))
        .isEqualTo(endpoint("grpc://10.0.0.1:1234/", "10.0.0.1", 1234, false));
    assertThat(Endpoint.parse("localhost:7"))
        .isEqualTo(endpoint("localhost:7", "localhost", 7, false));
    assertThat(Endpoint.parse("https://remote.example"))
        .isEqualTo(endpoint("https://remote.example", "remote.example", 443, true));
    assertThat(Endpoint.parse("GRPCS://[::1]:8443"))
        .isEqualTo(endpoint("GRPCS://[::1]:8443", "::1", 8443, true));
  }

  @Test
  void refusesWhatIsNotHostAndPort() {
    assertThatThrownBy(() -> Endpoint.parse("unix:///tmp/socket"))
        .hasMessageContaining("scheme 'unix'")
        .hasMessageContaining("grpc://HOST:PORT");
    assertThatThrownBy(() -> Endpoint.parse("grpc://")).hasMessageContaining("host is missing");
    assertThatThrownBy(() -> Endpoint.parse("grpc://host:99999")).hasMessageContaining("HOST:PORT");
    assertThatThrownBy(() -> Endpoint.parse("grpc://user@host:1"))
        .hasMessageContaining("HOST:PORT");
    assertThatThrownBy(() -> Endpoint.parse("grpc://host:1/instance")).hasMessageContaining("path");
  }

  private static Endpoint endpoint(String text, String host, int port, boolean tls) {
    return new Endpoint(text, host, port, tls);
  }
}
