package build.hearth.grpc.reapi;

import static build.hearth.grpc.TestServer.assertStatus;
import static org.assertj.core.api.Assertions.assertThat;

import build.bazel.remote.execution.v2.DigestFunction;
import build.bazel.remote.execution.v2.GetCapabilitiesRequest;
import build.bazel.remote.execution.v2.ServerCapabilities;
import build.bazel.remote.execution.v2.SymlinkAbsolutePathStrategy;
import build.hearth.grpc.TestServer;
import io.grpc.Status;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class CapabilitiesServiceTest {
  private TestServer server;

  @BeforeEach
  void start() {
    server = TestServer.start();
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private ServerCapabilities capabilities(String instance) {
    return server
        .capabilities()
        .getCapabilities(GetCapabilitiesRequest.newBuilder().setInstanceName(instance).build());
  }

  @Test
  void defaultInstanceAdvertisesWhatBazelNeeds() {
    ServerCapabilities caps = capabilities("");

    // Bazel 4.2.3 speaks 2.0 only, so the range must include it.
    assertThat(caps.getLowApiVersion().getMajor()).isEqualTo(2);
    assertThat(caps.getLowApiVersion().getMinor()).isEqualTo(0);
    assertThat(caps.getHighApiVersion().getMajor()).isEqualTo(2);
    assertThat(caps.getHighApiVersion().getMinor()).isEqualTo(2);

    var cache = caps.getCacheCapabilities();
    assertThat(cache.getDigestFunctionsList()).containsExactly(DigestFunction.Value.SHA256);
    assertThat(cache.getActionCacheUpdateCapabilities().getUpdateEnabled()).isTrue();
    assertThat(cache.getMaxBatchTotalSizeBytes()).isEqualTo(TestServer.MAX_BATCH);
    assertThat(cache.getSymlinkAbsolutePathStrategy())
        .isEqualTo(SymlinkAbsolutePathStrategy.Value.ALLOWED);
    assertThat(cache.getSupportedCompressorsList()).isEmpty();
    assertThat(cache.getSupportedBatchUpdateCompressorsList()).isEmpty();

    var exec = caps.getExecutionCapabilities();
    assertThat(exec.getExecEnabled()).isFalse();
    assertThat(exec.getDigestFunction()).isEqualTo(DigestFunction.Value.SHA256);
  }

  @Test
  void updateEnabledFollowsTheInstance() {
    assertThat(
            capabilities("ci/linux")
                .getCacheCapabilities()
                .getActionCacheUpdateCapabilities()
                .getUpdateEnabled())
        .isTrue();
    assertThat(
            capabilities("readonly")
                .getCacheCapabilities()
                .getActionCacheUpdateCapabilities()
                .getUpdateEnabled())
        .isFalse();
    assertThat(
            capabilities("cas-only")
                .getCacheCapabilities()
                .getActionCacheUpdateCapabilities()
                .getUpdateEnabled())
        .isFalse();
  }

  @Test
  void unknownInstanceIsInvalidArgumentListingTheKnownOnes() {
    assertStatus(
        () -> capabilities("main"),
        Status.Code.INVALID_ARGUMENT,
        "unknown instance name \"main\"",
        "\"\" (the default instance)",
        "\"ci/linux\"",
        "\"readonly\"",
        "--remote_instance_name");
    server.assertStillServing();
  }
}
