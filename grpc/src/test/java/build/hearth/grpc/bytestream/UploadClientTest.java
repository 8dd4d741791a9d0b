package build.hearth.grpc.bytestream;

import static org.assertj.core.api.Assertions.assertThat;

import build.hearth.spi.security.Identity;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class UploadClientTest {
  @Test
  void anAuthenticatedCallerIsItsIdentity() {
    assertThat(
            UploadClient.current(Optional.of(Identity.of(Identity.Kind.TOKEN, "alice", List.of()))))
        .isEqualTo("token:alice");
    assertThat(
            UploadClient.current(
                Optional.of(Identity.of(Identity.Kind.CERTIFICATE, "alice", List.of()))))
        .isEqualTo("certificate:alice");
  }

  @Test
  void aCallerWithoutCredentialsIsItsAddress() {
    // Outside a call there is no address; within one it is the peer's IP (see
    // ByteStreamResumeTest.oneClientsUploadsAreBoundedByItsOwnLimit).
    assertThat(UploadClient.current(Optional.of(Identity.anonymous())))
        .isEqualTo("address:unknown");
    assertThat(UploadClient.current(Optional.of(Identity.loopback()))).isEqualTo("address:unknown");
    assertThat(UploadClient.current(Optional.empty())).isEqualTo("address:unknown");
  }
}
