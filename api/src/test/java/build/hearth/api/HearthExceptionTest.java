package build.hearth.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class HearthExceptionTest {
  @Test
  void aLimitRefusalCarriesItsNameAndRetryHint() {
    HearthException e =
        HearthException.limitReached(
            "upload_sessions_per_client",
            Duration.ofSeconds(2),
            "%d uploads in progress (limits.maxUploadSessionsPerClient)",
            1000);

    assertThat(e.code()).isEqualTo(StatusCode.RESOURCE_EXHAUSTED);
    assertThat(e.getMessage())
        .isEqualTo("1000 uploads in progress (limits.maxUploadSessionsPerClient)");
    assertThat(e.limit()).contains("upload_sessions_per_client");
    assertThat(e.retryAfter()).contains(Duration.ofSeconds(2));
  }

  @Test
  void otherFailuresNameNoLimit() {
    HearthException e = HearthException.resourceExhausted("disk full");

    assertThat(e.limit()).isEmpty();
    assertThat(e.retryAfter()).isEmpty();
  }

  @Test
  void aLimitNameIsAFixedIdentifierNotFreeText() {
    assertThatThrownBy(() -> HearthException.limitReached("Upload sessions", null, "x"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> HearthException.limitReached("x", Duration.ofSeconds(-1), "x"))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
