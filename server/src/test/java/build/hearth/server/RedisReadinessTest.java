package build.hearth.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import build.bazel.remote.execution.v2.ActionCacheGrpc;
import build.bazel.remote.execution.v2.ContentAddressableStorageGrpc;
import build.bazel.remote.execution.v2.FindMissingBlobsRequest;
import build.bazel.remote.execution.v2.GetActionResultRequest;
import build.hearth.api.Digest;
import build.hearth.core.config.HearthConfig;
import build.hearth.redis.testing.RedisServer;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A server on Redis stores whose Redis goes away and comes back: {@code /readyz} answers 503 naming
 * the store and Redis (address and error) while it is down, FindMissingBlobs and GetActionResult
 * answer UNAVAILABLE naming Redis, and both serve again when the same Redis returns, all without
 * restarting the server.
 */
class RedisReadinessTest {
  @TempDir Path dir;

  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

  private HttpResponse<String> readyz(int port) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/readyz"))
            .timeout(Duration.ofSeconds(10))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static ContentAddressableStorageGrpc.ContentAddressableStorageBlockingStub cas(
      ManagedChannel channel) {
    return ContentAddressableStorageGrpc.newBlockingStub(channel)
        .withDeadlineAfter(60, TimeUnit.SECONDS);
  }

  private static ActionCacheGrpc.ActionCacheBlockingStub ac(ManagedChannel channel) {
    return ActionCacheGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
  }

  @Test
  @Timeout(value = 3, unit = TimeUnit.MINUTES)
  void readyzNamesRedisWhileItIsDownAndRecoversWithoutARestart() throws Exception {
    try (RedisServer redis = RedisServer.start(dir.resolve("redis"))) {
      String json =
          """
          {
            "blobStores": {"cas": {"type": "redis", "uri": "%s"}},
            "actionCacheStores": {"ac": {"type": "redis", "uri": "%s"}},
            "servers": [
              {"listen": "127.0.0.1:0", "instances": {"": {"cas": "cas", "actionCache": "ac"}}}
            ]
          }
          """
              .formatted(redis.uri(), redis.uri());
      String address = "Redis at redis://127.0.0.1:" + redis.port();
      Digest blob = Digest.of(new byte[] {1, 2, 3});
      Digest action = Digest.of(new byte[] {4, 5, 6});
      try (HearthServer server = HearthServer.start(HearthConfig.parse(json, "the test"))) {
        ManagedChannel channel =
            ManagedChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
        try {
          FindMissingBlobsRequest findMissing =
              FindMissingBlobsRequest.newBuilder().addBlobDigests(blob.toProto()).build();
          GetActionResultRequest getActionResult =
              GetActionResultRequest.newBuilder().setActionDigest(action.toProto()).build();
          await()
              .atMost(Duration.ofSeconds(30))
              .untilAsserted(() -> assertThat(readyz(server.port()).statusCode()).isEqualTo(200));
          assertThat(cas(channel).findMissingBlobs(findMissing).getMissingBlobDigestsCount())
              .isEqualTo(1);

          redis.stop();

          await()
              .atMost(Duration.ofSeconds(30))
              .untilAsserted(
                  () -> {
                    HttpResponse<String> response = readyz(server.port());
                    assertThat(response.statusCode()).as(response.body()).isEqualTo(503);
                    assertThat(response.body())
                        .startsWith("not ready: cas store 'cas' is unavailable: blobStores.cas: ")
                        .contains(address)
                        .contains("does not answer");
                  });
          assertThatThrownBy(() -> cas(channel).findMissingBlobs(findMissing))
              .isInstanceOfSatisfying(
                  StatusRuntimeException.class,
                  e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
                    assertThat(e.getStatus().getDescription()).contains(address);
                  });
          assertThatThrownBy(() -> ac(channel).getActionResult(getActionResult))
              .isInstanceOfSatisfying(
                  StatusRuntimeException.class,
                  e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
                    assertThat(e.getStatus().getDescription())
                        .contains("actionCacheStores.ac")
                        .contains(address);
                  });

          redis.start();

          await()
              .atMost(Duration.ofSeconds(60))
              .untilAsserted(
                  () -> {
                    HttpResponse<String> response = readyz(server.port());
                    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
                    assertThat(response.body()).isEqualTo("ready");
                  });
          assertThat(cas(channel).findMissingBlobs(findMissing).getMissingBlobDigestsCount())
              .isEqualTo(1);
          assertThatThrownBy(() -> ac(channel).getActionResult(getActionResult))
              .isInstanceOfSatisfying(
                  StatusRuntimeException.class,
                  e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
        } finally {
          channel.shutdownNow();
          channel.awaitTermination(10, TimeUnit.SECONDS);
        }
      }
    }
  }
}
