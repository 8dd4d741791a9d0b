package build.hearth.grpc.common;

import static org.assertj.core.api.Assertions.assertThat;

import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.RetryInfo;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
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
  void aLimitRefusalCarriesARetryHintAndItsLimitStaysLocal() {
    HearthException refusal =
        HearthException.limitReached(
            "upload_sessions",
            Duration.ofMillis(1500),
            "too many uploads (limits.maxUploadSessions)");

    StatusRuntimeException e = Rpc.toException(refusal);

    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(Rpc.refusingLimit(e.getStatus())).contains("upload_sessions");
    com.google.rpc.Status details = StatusProto.fromThrowable(e);
    assertThat(details).isNotNull();
    assertThat(details.getDetailsList()).hasSize(1);
    RetryInfo retry = unpack(details.getDetails(0));
    assertThat(retry.getRetryDelay().getSeconds()).isEqualTo(1);
    assertThat(retry.getRetryDelay().getNanos()).isEqualTo(500_000_000);
  }

  @Test
  void otherFailuresNameNoLimitAndNoRetryHint() {
    StatusRuntimeException e = Rpc.toException(HearthException.resourceExhausted("disk full"));

    assertThat(Rpc.refusingLimit(e.getStatus())).isEmpty();
    assertThat(StatusProto.fromThrowable(e).getDetailsList()).isEmpty();
  }

  private static RetryInfo unpack(Any any) {
    try {
      return any.unpack(RetryInfo.class);
    } catch (InvalidProtocolBufferException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void batchEntryStatus() {
    com.google.rpc.Status status =
        Rpc.rpcStatus(HearthException.notFound("blob %s is gone", "abc"));
    assertThat(status.getCode()).isEqualTo(5);
    assertThat(status.getMessage()).isEqualTo("blob abc is gone");
  }
}
