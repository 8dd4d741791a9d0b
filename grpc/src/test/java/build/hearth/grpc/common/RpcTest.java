package build.hearth.grpc.common;

import static org.assertj.core.api.Assertions.assertThat;

import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import io.grpc.Status;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.junit.jupiter.api.Test;

class RpcTest {
  @Test
  void everyStatusCodeKeepsItsNumberAndMessage() {
    for (StatusCode code : StatusCode.values()) {
      if (code == StatusCode.OK) {
        continue;
      }
      Status status = Rpc.toStatus(new HearthException(code, "because " + code));
      assertThat(status.getCode().value()).isEqualTo(code.value());
      assertThat(status.getCode().name()).isEqualTo(code.name());
      assertThat(status.getDescription()).isEqualTo("because " + code);
    }
  }

  @Test
  void unexpectedFailuresAreInternalWithTheirMessage() {
    Status status = Rpc.toStatus(new UncheckedIOException(new IOException("disk full")));
    assertThat(status.getCode()).isEqualTo(Status.Code.INTERNAL);
    assertThat(status.getDescription()).contains("disk full");

    assertThat(Rpc.toStatus(new NullPointerException()).getDescription())
        .isEqualTo("java.lang.NullPointerException");
  }

  @Test
  void grpcStatusesPassThrough() {
    assertThat(Rpc.toStatus(Status.ABORTED.withDescription("x").asRuntimeException()).getCode())
        .isEqualTo(Status.Code.ABORTED);
  }

  @Test
  void batchEntryStatus() {
    com.google.rpc.Status status =
        Rpc.rpcStatus(HearthException.notFound("blob %s is gone", "abc"));
    assertThat(status.getCode()).isEqualTo(5);
    assertThat(status.getMessage()).isEqualTo("blob abc is gone");
  }
}
