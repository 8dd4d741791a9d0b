package build.hearth.grpc.common;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import build.bazel.remote.execution.v2.CapabilitiesGrpc;
import build.bazel.remote.execution.v2.GetCapabilitiesRequest;
import build.bazel.remote.execution.v2.ServerCapabilities;
import build.hearth.api.HearthException;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BearerTokenTest {
  @TempDir Path dir;

  @Test
  void theFileWinsOverTheEnvironmentAndOnlyItsFirstLineCounts() throws Exception {
    Path file = Files.writeString(dir.resolve("t"), "  from-file \nsecond\n");

    BearerToken token =
        BearerToken.find(Optional.of(file), Map.of("HEARTH_TOKEN", "from-env")).orElseThrow();

    assertThat(token.headerValue()).isEqualTo("Bearer from-file");
    assertThat(token.toString()).doesNotContain("from-file").contains(file.toString());
  }

  @Test
  void theEnvironmentIsUsedWithoutAFileAndNothingWithoutEither() {
    assertThat(BearerToken.find(Optional.empty(), Map.of("HEARTH_TOKEN", "env-token")))
        .hasValueSatisfying(t -> assertThat(t.headerValue()).isEqualTo("Bearer env-token"));
    assertThat(BearerToken.find(Optional.empty(), Map.of())).isEmpty();
  }

  @Test
  void emptyMissingOrOddTokensAreNamed() throws Exception {
    Path empty = Files.writeString(dir.resolve("empty"), "\n");
    Path spaced = Files.writeString(dir.resolve("spaced"), "a b\n");

    assertThatThrownBy(() -> BearerToken.find(Optional.of(empty), Map.of()))
        .isInstanceOf(HearthException.class)
        .hasMessageContaining("holds no token");
    assertThatThrownBy(() -> BearerToken.find(Optional.of(dir.resolve("none")), Map.of()))
        .hasMessageContaining("no such file");
    assertThatThrownBy(() -> BearerToken.find(Optional.of(spaced), Map.of()))
        .hasMessageContaining("a header cannot carry")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("a b"));
  }

  @Test
  void everyCallCarriesTheAuthorizationHeader() throws Exception {
    Metadata.Key<String> authorization =
        Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
    List<String> seen = new CopyOnWriteArrayList<>();
    ServerInterceptor recorder =
        new ServerInterceptor() {
          @Override
          public <Q, R> ServerCall.Listener<Q> interceptCall(
              ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
            seen.add(headers.get(authorization));
            return next.startCall(call, headers);
          }
        };
    String name = InProcessServerBuilder.generateName();
    Server server =
        InProcessServerBuilder.forName(name)
            .addService(
                new CapabilitiesGrpc.CapabilitiesImplBase() {
                  @Override
                  public void getCapabilities(
                      GetCapabilitiesRequest request, StreamObserver<ServerCapabilities> out) {
                    out.onNext(ServerCapabilities.getDefaultInstance());
                    out.onCompleted();
                  }
                })
            .intercept(recorder)
            .build()
            .start();
    ManagedChannel channel = InProcessChannelBuilder.forName(name).build();
    try {
      BearerToken token =
          BearerToken.find(Optional.empty(), Map.of("HEARTH_TOKEN", "t0k3n")).orElseThrow();
      CapabilitiesGrpc.CapabilitiesBlockingStub stub =
          CapabilitiesGrpc.newBlockingStub(channel).withCallCredentials(token.callCredentials());

      stub.getCapabilities(GetCapabilitiesRequest.getDefaultInstance());
      stub.getCapabilities(GetCapabilitiesRequest.getDefaultInstance());

      assertThat(seen).containsExactly("Bearer t0k3n", "Bearer t0k3n");
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }
}
