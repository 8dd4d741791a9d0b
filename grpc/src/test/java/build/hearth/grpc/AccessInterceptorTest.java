package build.hearth.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import build.bazel.remote.execution.v2.ActionCacheGrpc;
import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.BatchUpdateBlobsRequest;
import build.bazel.remote.execution.v2.CapabilitiesGrpc;
import build.bazel.remote.execution.v2.ContentAddressableStorageGrpc;
import build.bazel.remote.execution.v2.ExecuteRequest;
import build.bazel.remote.execution.v2.ExecutionGrpc;
import build.bazel.remote.execution.v2.FindMissingBlobsRequest;
import build.bazel.remote.execution.v2.GetCapabilitiesRequest;
import build.bazel.remote.execution.v2.UpdateActionResultRequest;
import build.hearth.api.ActionCache;
import build.hearth.api.ContentAddressableStorage;
import build.hearth.api.Digest;
import build.hearth.core.Storage;
import build.hearth.core.config.AccessConfig;
import build.hearth.core.config.HearthConfig;
import build.hearth.core.security.ConfiguredAccessControl;
import build.hearth.spi.security.Permission;
import build.hearth.spi.security.Refusal;
import build.hearth.spi.security.RefusalReason;
import build.hearth.spi.storage.ActionCacheStore;
import build.hearth.spi.storage.BlobStore;
import build.hearth.spi.transport.HttpRoutes;
import build.hearth.spi.transport.InstanceServices;
import build.hearth.spi.transport.TransportContext;
import com.google.bytestream.ByteStreamGrpc;
import com.google.bytestream.ByteStreamProto.ReadRequest;
import com.google.bytestream.ByteStreamProto.WriteRequest;
import com.google.bytestream.ByteStreamProto.WriteResponse;
import com.google.longrunning.CancelOperationRequest;
import com.google.longrunning.OperationsGrpc;
import com.google.protobuf.ByteString;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.AbstractStub;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The access interceptor on a real socket: every refusal with its status and message, and the
 * server serving on after each. Tokens: {@code full} (everything on every instance), {@code reader}
 * (read on every instance), {@code team} (everything on {@code team-a} only); a JWT for {@code
 * alice} with read and write.
 */
class AccessInterceptorTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(20);
  private static final String FULL = "full-access-token-0123456789";
  private static final String READER = "read-only-token-0123456789";
  private static final String TEAM = "team-a-token-0123456789";

  @TempDir Path dir;
  private final List<Refusal> refusals = new CopyOnWriteArrayList<>();
  private BlobStore blobs;
  private ActionCacheStore actionCacheStore;
  private GrpcTransport transport;
  private ManagedChannel channel;
  private KeyPair jwtKey;

  private static String sha256(String token) throws Exception {
    return HexFormat.of()
        .formatHex(
            MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8)));
  }

  @BeforeEach
  void start() throws Exception {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
    generator.initialize(2048);
    jwtKey = generator.generateKeyPair();
    Path pem =
        Files.writeString(
            dir.resolve("jwt.pem"),
            "-----BEGIN PUBLIC KEY-----\n"
                + Base64.getMimeEncoder().encodeToString(jwtKey.getPublic().getEncoded())
                + "\n-----END PUBLIC KEY-----\n");
    String fields =
        """
        "authentication": {
          "tokens": [
            {"name": "full", "sha256": "%s"},
            {"name": "reader", "sha256": "%s"},
            {"name": "team", "sha256": "%s"}
          ],
          "jwt": {"issuer": "https://issuer.example", "audience": "hearth", "publicKey": "%s"},
          "trustLoopback": false
        },
        "permissions": [
          {"identities": ["token:full"], "grant": ["read", "write", "writeActionCache", "execute", "admin", "metrics"]},
          {"identities": ["token:reader"], "grant": ["read"]},
          {"identities": ["token:team"], "instances": ["team-a"], "grant": ["read", "write", "writeActionCache", "execute"]},
          {"identities": ["jwt:alice"], "grant": ["read", "write"]},
          {"identities": ["anonymous"], "grant": ["metrics"]}
        ]
        """
            .formatted(
                sha256(FULL), sha256(READER), sha256(TEAM), pem.toString().replace("\\", "\\\\"));
    AccessConfig access =
        HearthConfig.parse(
                """
                {"blobStores": {"cas": {"type": "memory"}},
                 "servers": [{"listen": "127.0.0.1:0", "instances": {"": {"cas": "cas"}}, %s}]}
                """
                    .formatted(fields),
                "test.json")
            .servers()
            .get(0)
            .access();
    blobs = MemoryStores.blobStore();
    actionCacheStore = MemoryStores.actionCacheStore();
    ContentAddressableStorage cas = Storage.cas(blobs);
    ActionCache actionCache = Storage.actionCache(actionCacheStore, cas);
    HttpRoutes routes =
        new HttpRoutes() {
          @Override
          public Optional<Response> get(String path, String query) {
            return switch (path) {
              case "/metrics", "/healthz", "/admin" ->
                  Optional.of(HttpRoutes.Response.ok("text/plain", "ok " + path + "\n"));
              default -> Optional.empty();
            };
          }

          // Like the web UI's pages: they decide per instance what the caller sees.
          @Override
          public boolean checksAccess(String path) {
            return path.equals("/pages");
          }

          @Override
          public Optional<Response> get(String path, String query, Caller caller) {
            return Optional.of(
                HttpRoutes.Response.ok(
                    "text/plain",
                    "read '': "
                        + caller.allowed(Permission.READ, "")
                        + ", read team-a: "
                        + caller.allowed(Permission.READ, "team-a")
                        + ", authenticated: "
                        + caller.authenticated()
                        + "\n"));
          }
        };
    transport =
        GrpcTransport.start(
            TransportContext.newBuilder("auth", "127.0.0.1", 0)
                .instance(new InstanceServices("", cas, Optional.of(actionCache), true))
                .instance(new InstanceServices("team-a", cas, Optional.of(actionCache), true))
                .httpRoutes(routes)
                .accessControl(
                    ConfiguredAccessControl.newBuilder("auth", access)
                        .refusalCounter(refusals::add)
                        .build())
                .build(),
            GrpcSettings.defaults());
    channel =
        ManagedChannelBuilder.forAddress("127.0.0.1", transport.port()).usePlaintext().build();
  }

  @AfterEach
  void stop() throws Exception {
    channel.shutdownNow();
    channel.awaitTermination(5, TimeUnit.SECONDS);
    transport.shutdown(Duration.ofSeconds(2));
    blobs.close();
    actionCacheStore.close();
  }

  private static <S extends AbstractStub<S>> S as(S stub, String token) {
    S timed = stub.withDeadlineAfter(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    if (token == null) {
      return timed;
    }
    Metadata headers = new Metadata();
    headers.put(
        Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + token);
    return timed.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
  }

  private Status capabilities(String token) {
    try {
      as(CapabilitiesGrpc.newBlockingStub(channel), token)
          .getCapabilities(GetCapabilitiesRequest.getDefaultInstance());
      return Status.OK;
    } catch (StatusRuntimeException e) {
      return e.getStatus();
    }
  }

  private Status upload(String token, String instance, ByteString data) {
    Digest digest = Digest.of(data);
    try {
      as(ContentAddressableStorageGrpc.newBlockingStub(channel), token)
          .batchUpdateBlobs(
              BatchUpdateBlobsRequest.newBuilder()
                  .setInstanceName(instance)
                  .addRequests(
                      BatchUpdateBlobsRequest.Request.newBuilder()
                          .setDigest(digest.toProto())
                          .setData(data))
                  .build());
      return Status.OK;
    } catch (StatusRuntimeException e) {
      return e.getStatus();
    }
  }

  private Status byteStreamWrite(String token, String instance, ByteString data) throws Exception {
    Digest digest = Digest.of(data);
    CompletableFuture<WriteResponse> done = new CompletableFuture<>();
    StreamObserver<WriteRequest> requests =
        as(ByteStreamGrpc.newStub(channel), token)
            .write(
                new StreamObserver<>() {
                  @Override
                  public void onNext(WriteResponse value) {
                    done.complete(value);
                  }

                  @Override
                  public void onError(Throwable t) {
                    done.completeExceptionally(t);
                  }

                  @Override
                  public void onCompleted() {}
                });
    String prefix = instance.isEmpty() ? "" : instance + "/";
    requests.onNext(
        WriteRequest.newBuilder()
            .setResourceName(
                prefix
                    + "uploads/6b1e7ab8-0000-4000-8000-000000000001/blobs/"
                    + digest.hash()
                    + "/"
                    + digest.sizeBytes())
            .setData(data)
            .setFinishWrite(true)
            .build());
    requests.onCompleted();
    try {
      done.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      return Status.OK;
    } catch (java.util.concurrent.ExecutionException e) {
      return Status.fromThrowable(e.getCause());
    }
  }

  private String jwt(Instant expiry) throws Exception {
    SignedJWT jwt =
        new SignedJWT(
            new JWSHeader(JWSAlgorithm.RS256),
            new JWTClaimsSet.Builder()
                .issuer("https://issuer.example")
                .audience("hearth")
                .subject("alice")
                .expirationTime(Date.from(expiry))
                .build());
    jwt.sign(new RSASSASigner(jwtKey.getPrivate()));
    return jwt.serialize();
  }

  private void assertStillServing() {
    assertThat(capabilities(FULL).getCode()).isEqualTo(Status.Code.OK);
  }

  @Test
  void noCredentialsIsUnauthenticatedAndSaysWhatToSend() {
    Status status = capabilities(null);

    assertThat(status.getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(status.getDescription())
        .contains("no credentials")
        .contains("lack \"read\" on instance \"\"")
        .contains("--remote_header=\"authorization=Bearer <token>\"")
        .contains("client certificate");
    assertThat(refusals).extracting(Refusal::reason).containsExactly(RefusalReason.NO_CREDENTIALS);
    assertStillServing();
  }

  @Test
  void wrongTokenIsUnauthenticatedWithoutTheToken() {
    Status status = capabilities("full-access-token-0123456780");

    assertThat(status.getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(status.getDescription())
        .contains("not one this server knows")
        .doesNotContain("full-access-token");
    assertThat(refusals.get(0).remoteAddress()).isNotNull();
    assertStillServing();
  }

  @Test
  void fullAccessTokenUploadsReadsAndWritesTheActionCache() throws Exception {
    ByteString data = ByteString.copyFromUtf8("hello, hearth");

    assertThat(upload(FULL, "", data).getCode()).isEqualTo(Status.Code.OK);
    assertThat(byteStreamWrite(FULL, "", ByteString.copyFromUtf8("streamed")).getCode())
        .isEqualTo(Status.Code.OK);
    Digest digest = Digest.of(data);
    assertThat(
            as(ByteStreamGrpc.newBlockingStub(channel), FULL)
                .read(
                    ReadRequest.newBuilder()
                        .setResourceName("blobs/" + digest.hash() + "/" + digest.sizeBytes())
                        .build())
                .next()
                .getData())
        .isEqualTo(data);
    assertThat(refusals).isEmpty();
  }

  @Test
  void readOnlyTokenReadsButItsWritesAreDeniedNamingPermissionInstanceAndIdentity()
      throws Exception {
    ByteString data = ByteString.copyFromUtf8("written by the reader?");

    assertThat(capabilities(READER).getCode()).isEqualTo(Status.Code.OK);
    assertThat(
            as(ContentAddressableStorageGrpc.newBlockingStub(channel), READER)
                .findMissingBlobs(
                    FindMissingBlobsRequest.newBuilder()
                        .addBlobDigests(Digest.of(data).toProto())
                        .build())
                .getMissingBlobDigestsCount())
        .isEqualTo(1);
    Status batch = upload(READER, "", data);
    assertThat(batch.getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(batch.getDescription())
        .startsWith("token:reader lacks \"write\" on instance \"\" (the default instance)");
    Status streamed = byteStreamWrite(READER, "", data);
    assertThat(streamed.getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(blobs.contains(Digest.of(data))).isFalse();

    StatusRuntimeException actionCacheWrite =
        catchThrowableOfType(
            StatusRuntimeException.class,
            () ->
                as(ActionCacheGrpc.newBlockingStub(channel), READER)
                    .updateActionResult(
                        UpdateActionResultRequest.newBuilder()
                            .setActionDigest(Digest.of(data).toProto())
                            .setActionResult(ActionResult.getDefaultInstance())
                            .build()));
    assertThat(actionCacheWrite.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(actionCacheWrite.getStatus().getDescription())
        .contains("token:reader lacks \"writeActionCache\"");

    StatusRuntimeException execute =
        catchThrowableOfType(
            StatusRuntimeException.class,
            () ->
                as(ExecutionGrpc.newBlockingStub(channel), READER)
                    .execute(
                        ExecuteRequest.newBuilder()
                            .setActionDigest(Digest.of(data).toProto())
                            .build())
                    .next());
    assertThat(execute.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(execute.getStatus().getDescription()).contains("lacks \"execute\"");
    assertThat(refusals)
        .extracting(Refusal::reason)
        .containsOnly(RefusalReason.PERMISSION_DENIED)
        .hasSize(4);
    assertStillServing();
  }

  @Test
  void tokenValidOnlyForAnotherInstanceIsDenied() throws Exception {
    ByteString data = ByteString.copyFromUtf8("team data");

    assertThat(upload(TEAM, "team-a", data).getCode()).isEqualTo(Status.Code.OK);
    Status other = upload(TEAM, "", data);
    assertThat(other.getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(other.getDescription()).startsWith("token:team lacks \"write\" on instance \"\"");
    assertThat(byteStreamWrite(TEAM, "team-a", ByteString.copyFromUtf8("x")).getCode())
        .isEqualTo(Status.Code.OK);
    assertThat(byteStreamWrite(TEAM, "", ByteString.copyFromUtf8("y")).getCode())
        .isEqualTo(Status.Code.PERMISSION_DENIED);
    StatusRuntimeException cancel =
        catchThrowableOfType(
            StatusRuntimeException.class,
            () ->
                as(OperationsGrpc.newBlockingStub(channel), TEAM)
                    .cancelOperation(
                        CancelOperationRequest.newBuilder()
                            .setName("operations/0b7e2b43-1111-4000-8000-000000000000")
                            .build()));
    assertThat(cancel.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(cancel.getStatus().getDescription()).contains("lacks \"execute\" on instance \"\"");
    assertStillServing();
  }

  @Test
  void malformedByteStreamNameIsLeftToTheServiceToRefuse() throws Exception {
    CompletableFuture<Throwable> failed = new CompletableFuture<>();
    StreamObserver<WriteRequest> requests =
        as(ByteStreamGrpc.newStub(channel), FULL)
            .write(
                new StreamObserver<>() {
                  @Override
                  public void onNext(WriteResponse value) {}

                  @Override
                  public void onError(Throwable t) {
                    failed.complete(t);
                  }

                  @Override
                  public void onCompleted() {
                    failed.complete(null);
                  }
                });
    requests.onNext(WriteRequest.newBuilder().setResourceName("/nonsense").build());
    requests.onCompleted();

    assertThat(Status.fromThrowable(failed.get(20, TimeUnit.SECONDS)).getCode())
        .isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertStillServing();
  }

  @Test
  void validJwtAuthenticatesAndTamperedOrExpiredJwtsAreRefused() throws Exception {
    String valid = jwt(Instant.now().plus(Duration.ofHours(1)));
    assertThat(upload(valid, "", ByteString.copyFromUtf8("by alice")).getCode())
        .isEqualTo(Status.Code.OK);

    String[] parts = valid.split("\\.");
    String payload =
        new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8)
            .replace("alice", "admin");
    String tampered =
        parts[0]
            + "."
            + Base64.getUrlEncoder().withoutPadding().encodeToString(payload.getBytes())
            + "."
            + parts[2];
    Status tamperedStatus = capabilities(tampered);
    assertThat(tamperedStatus.getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(tamperedStatus.getDescription()).contains("signature does not verify");

    Status expired = capabilities(jwt(Instant.now().minus(Duration.ofHours(1))));
    assertThat(expired.getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(expired.getDescription()).contains("it has expired");
    assertThat(refusals)
        .extracting(Refusal::reason)
        .containsExactly(RefusalReason.INVALID_JWT, RefusalReason.EXPIRED_JWT);
    assertStillServing();
  }

  @Test
  void httpRoutesNeedTheirPermissions() throws Exception {
    HttpClient http = HttpClient.newBuilder().connectTimeout(TIMEOUT).build();
    String base = "http://127.0.0.1:" + transport.port();

    HttpResponse<String> health = get(http, base + "/healthz", null);
    assertThat(health.statusCode()).isEqualTo(200);
    assertThat(get(http, base + "/metrics", null).statusCode()).isEqualTo(200);

    HttpResponse<String> adminAnonymous = get(http, base + "/admin", null);
    assertThat(adminAnonymous.statusCode()).isEqualTo(401);
    assertThat(adminAnonymous.headers().firstValue("www-authenticate"))
        .contains("Bearer realm=\"hearth\"");
    assertThat(adminAnonymous.body()).contains("lack \"admin\" on this server").endsWith("\n");

    HttpResponse<String> adminReader = get(http, base + "/admin", READER);
    assertThat(adminReader.statusCode()).isEqualTo(403);
    assertThat(adminReader.body())
        .isEqualTo(
            "token:reader lacks \"admin\" on this server; a policy in the server's \"permissions\""
                + " must grant \"admin\" to it\n");

    assertThat(get(http, base + "/admin", "wrong-token").statusCode()).isEqualTo(401);
    HttpResponse<String> adminFull = get(http, base + "/admin", FULL);
    assertThat(adminFull.statusCode()).isEqualTo(200);
    assertThat(adminFull.body()).isEqualTo("ok /admin\n");
    assertThat(get(http, base + "/unknown", FULL).statusCode()).isEqualTo(404);
  }

  @Test
  void routesThatCheckAccessThemselvesAreHandedWhatTheCallerMayDo() throws Exception {
    HttpClient http = HttpClient.newBuilder().connectTimeout(TIMEOUT).build();
    String pages = "http://127.0.0.1:" + transport.port() + "/pages";

    assertThat(get(http, pages, TEAM).body())
        .isEqualTo("read '': false, read team-a: true, authenticated: true\n");
    assertThat(get(http, pages, READER).body())
        .isEqualTo("read '': true, read team-a: true, authenticated: true\n");
    // No credentials: the anonymous identity, which the routes answer 401 for what it lacks.
    assertThat(get(http, pages, null).body())
        .isEqualTo("read '': false, read team-a: false, authenticated: false\n");

    HttpResponse<String> wrong = get(http, pages, "wrong-token");
    assertThat(wrong.statusCode()).isEqualTo(401);
    assertThat(wrong.headers().firstValue("www-authenticate")).contains("Bearer realm=\"hearth\"");
    assertThat(wrong.body()).doesNotContain("read");
    assertThat(refusals).anySatisfy(r -> assertThat(r.permission()).isEqualTo(Permission.READ));
  }

  private static HttpResponse<String> get(HttpClient http, String uri, String token)
      throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(uri)).timeout(TIMEOUT).GET();
    if (token != null) {
      request.header("Authorization", "Bearer " + token);
    }
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }
}
