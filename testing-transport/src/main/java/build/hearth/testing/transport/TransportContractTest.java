package build.hearth.testing.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.BatchReadBlobsRequest;
import build.bazel.remote.execution.v2.BatchReadBlobsResponse;
import build.bazel.remote.execution.v2.BatchUpdateBlobsRequest;
import build.bazel.remote.execution.v2.BatchUpdateBlobsResponse;
import build.bazel.remote.execution.v2.DigestFunction;
import build.bazel.remote.execution.v2.FindMissingBlobsRequest;
import build.bazel.remote.execution.v2.GetActionResultRequest;
import build.bazel.remote.execution.v2.GetCapabilitiesRequest;
import build.bazel.remote.execution.v2.OutputFile;
import build.bazel.remote.execution.v2.ServerCapabilities;
import build.bazel.remote.execution.v2.UpdateActionResultRequest;
import build.hearth.api.ActionCache;
import build.hearth.api.ContentAddressableStorage;
import build.hearth.api.Digest;
import build.hearth.spi.transport.InstanceServices;
import build.hearth.spi.transport.Transport;
import build.hearth.spi.transport.TransportContext;
import com.google.bytestream.ByteStreamProto.QueryWriteStatusRequest;
import com.google.bytestream.ByteStreamProto.QueryWriteStatusResponse;
import com.google.bytestream.ByteStreamProto.ReadRequest;
import com.google.bytestream.ByteStreamProto.WriteRequest;
import com.google.bytestream.ByteStreamProto.WriteResponse;
import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.AfterTestExecutionCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The conformance suite for transports ({@link build.hearth.spi.transport.TransportProvider}s): a
 * REAPI v2 client checks what any transport must serve over the channel the implementer gives it —
 * capabilities, the CAS (FindMissingBlobs, batches, ByteStream reads and writes), the action cache,
 * the errors for unknown instances and malformed digests, and several clients at once.
 *
 * <pre>{@code
 * class InProcessTransportContractTest extends TransportContractTest {
 *   private final BlobStore blobs = ... // a memory blob store, closed in @AfterEach
 *
 *   protected Transport start(TransportContext context) {
 *     return new InProcessTransportProvider().start(context);
 *   }
 *
 *   protected ManagedChannel connect(Transport transport) {
 *     return InProcessChannelBuilder.forName("hearth-" + serverName()).build();
 *   }
 *
 *   protected ContentAddressableStorage newCas() {
 *     return Storage.cas(blobs);
 *   }
 *
 *   protected ActionCache newActionCache(ContentAddressableStorage cas) {
 *     return Storage.actionCache(acStore, cas);
 *   }
 * }
 * }</pre>
 *
 * <p><b>What the suite serves.</b> Each test starts one transport through {@link #start} for a
 * context of server name {@link #serverName()}, host {@code 127.0.0.1}, port 0 and {@link
 * #MAX_BATCH_SIZE_BYTES}, with three instances over one CAS from {@link #newCas()} and one action
 * cache from {@link #newActionCache}: {@code ""} and {@code "ci/linux"} accept action-cache
 * updates, {@code "readonly"} does not. The suite itself needs no socket; whether the transport
 * uses one is up to it and to {@link #connect}.
 *
 * <p><b>Lifecycle.</b> The transport starts on the first call of {@link #channel()} (or {@link
 * #transport()}). After each test, before the subclass's {@code @AfterEach} methods, the suite
 * shuts down every channel it got from {@link #connect} and then the transport; so a subclass
 * closes the stores behind {@link #newCas()} in its own {@code @AfterEach}. JUnit creates one
 * instance per test. Calls time out after {@link #TIMEOUT}, so a hanging transport fails instead of
 * blocking.
 */
public abstract class TransportContractTest {

  /** For the test classes of transports, which JUnit creates once per test. */
  protected TransportContractTest() {}

  /** The batch limit the suite's context sets: small, so that tests stay quick. */
  protected static final long MAX_BATCH_SIZE_BYTES = 64 * 1024;

  /** The deadline of every call the suite makes. */
  protected static final Duration TIMEOUT = Duration.ofSeconds(30);

  private static final AtomicInteger SERVERS = new AtomicInteger();

  private final String serverName =
      "contract-" + SERVERS.incrementAndGet() + "-" + UUID.randomUUID();
  private final Random random = new Random(0x7A_5EEDL);
  // Guarded by this: the concurrency test connects from several threads.
  private final List<ManagedChannel> channels = new ArrayList<>();
  private Transport transport;
  private ManagedChannel channel;

  /** Shuts down the channels and the transport before the subclass's {@code @AfterEach}. */
  @RegisterExtension final AfterTestExecutionCallback shutdown = this::afterTest;

  /**
   * Starts the transport under test for {@code context}, as its provider's {@code start} would.
   *
   * @param context what to serve; its server name is {@link #serverName()}
   * @return the running transport; the suite shuts it down
   */
  protected abstract Transport start(TransportContext context);

  /**
   * Opens a new client channel to {@code transport}. Called once per client, possibly from several
   * threads at once; the suite shuts each channel down.
   *
   * @param transport a transport from {@link #start}
   * @return a channel that reaches it, with an inbound message limit of at least 16 MiB
   */
  protected abstract ManagedChannel connect(Transport transport);

  /**
   * {@return a new, empty content-addressable store that verifies what is written to it} Called
   * once per test; the subclass closes whatever backs it.
   */
  protected abstract ContentAddressableStorage newCas();

  /**
   * {@return a new, empty action cache whose entries refer to blobs in {@code cas}}
   *
   * @param cas the store from {@link #newCas()} that the instances serve
   */
  protected abstract ActionCache newActionCache(ContentAddressableStorage cas);

  /** {@return the server name of the suite's context, unique per test in this JVM} */
  protected final String serverName() {
    return serverName;
  }

  /** {@return the transport under test, started on first use} */
  protected final synchronized Transport transport() {
    if (transport == null) {
      ContentAddressableStorage cas = newCas();
      Optional<ActionCache> actionCache = Optional.of(newActionCache(cas));
      TransportContext context =
          TransportContext.newBuilder(serverName, "127.0.0.1", 0)
              .maxBatchSizeBytes(MAX_BATCH_SIZE_BYTES)
              .instance(new InstanceServices("", cas, actionCache, true))
              .instance(new InstanceServices("ci/linux", cas, actionCache, true))
              .instance(new InstanceServices("readonly", cas, actionCache, false))
              .build();
      transport = start(context);
      assertThat(transport).as("start(context)").isNotNull();
    }
    return transport;
  }

  /** {@return the test's first channel to the transport, opened on first use} */
  protected final synchronized ManagedChannel channel() {
    if (channel == null) {
      channel = newChannel();
    }
    return channel;
  }

  /** {@return a further channel to the transport, for another client; the suite closes it} */
  protected final ManagedChannel newChannel() {
    Transport running = transport();
    ManagedChannel opened = connect(running);
    assertThat(opened).as("connect(transport)").isNotNull();
    synchronized (this) {
      channels.add(opened);
    }
    return opened;
  }

  // ---- capabilities ----

  /** Every instance advertises REAPI 2.x, SHA-256 and the context's batch limit. */
  @Test
  public void capabilitiesAdvertiseReapiTwoAndSha256() {
    for (String instance : List.of("", "ci/linux")) {
      ServerCapabilities capabilities = capabilities(instance);

      assertThat(capabilities.getLowApiVersion().getMajor()).as("low major").isEqualTo(2);
      assertThat(capabilities.getHighApiVersion().getMajor()).as("high major").isEqualTo(2);
      assertThat(capabilities.getCacheCapabilities().getDigestFunctionsList())
          .as("capabilities.getCacheCapabilities().getDigestFunctionsList()")
          .contains(DigestFunction.Value.SHA256);
      assertThat(capabilities.getCacheCapabilities().getMaxBatchTotalSizeBytes())
          .as("capabilities.getCacheCapabilities().getMaxBatchTotalSizeBytes()")
          .isEqualTo(MAX_BATCH_SIZE_BYTES);
    }
  }

  /** {@code update_enabled} follows each instance's setting. */
  @Test
  public void capabilitiesReportActionCacheUpdatesPerInstance() {
    assertThat(updateEnabled("")).as("instance \"\"").isTrue();
    assertThat(updateEnabled("readonly")).as("instance readonly").isFalse();
  }

  // ---- CAS ----

  /** FindMissingBlobs names exactly the digests the CAS lacks, and the empty blob is never one. */
  @Test
  public void findMissingBlobsNamesOnlyAbsentBlobs() {
    ByteString present = randomBlob(300);
    ByteString absent = randomBlob(400);
    batchUpdate("", List.of(present));

    List<build.bazel.remote.execution.v2.Digest> missing =
        calls()
            .unary(
                ReapiCalls.FIND_MISSING,
                FindMissingBlobsRequest.newBuilder()
                    .addBlobDigests(Digest.of(present).toProto())
                    .addBlobDigests(Digest.of(absent).toProto())
                    .build())
            .getMissingBlobDigestsList();

    assertThat(missing).as("missing").containsExactly(Digest.of(absent).toProto());
  }

  /** Blobs written with BatchUpdateBlobs come back from BatchReadBlobs, in every instance. */
  @Test
  public void batchUpdateThenBatchReadRoundTrips() {
    List<ByteString> blobs = List.of(randomBlob(1), randomBlob(1000), randomBlob(20_000));

    BatchUpdateBlobsResponse updated = batchUpdate("ci/linux", blobs);

    assertThat(updated.getResponsesList())
        .as("updated.getResponsesList()")
        .hasSize(blobs.size())
        .allSatisfy(
            r -> assertThat(r.getStatus().getCode()).as("r.getStatus().getCode()").isZero());
    BatchReadBlobsRequest.Builder read = BatchReadBlobsRequest.newBuilder();
    blobs.forEach(b -> read.addDigests(Digest.of(b).toProto()));
    BatchReadBlobsResponse response =
        calls().unary(ReapiCalls.BATCH_READ, read.setInstanceName("ci/linux").build());
    assertThat(response.getResponsesList()).as("response.getResponsesList()").hasSize(blobs.size());
    for (BatchReadBlobsResponse.Response r : response.getResponsesList()) {
      assertThat(r.getStatus().getCode()).as("status of %s", r.getDigest()).isZero();
      assertThat(Digest.of(r.getData()).toProto())
          .as("Digest.of(r.getData()).toProto()")
          .isEqualTo(r.getDigest());
    }
  }

  /** A blob whose content does not match its digest fails alone; the others are stored. */
  @Test
  public void batchUpdateRefusesAMismatchedBlobOnly() {
    ByteString good = randomBlob(100);
    ByteString claimed = randomBlob(100);
    ByteString sent = randomBlob(100);

    BatchUpdateBlobsResponse response =
        calls()
            .unary(
                ReapiCalls.BATCH_UPDATE,
                BatchUpdateBlobsRequest.newBuilder()
                    .addRequests(updateRequest(Digest.of(good), good))
                    .addRequests(updateRequest(Digest.of(claimed), sent))
                    .build());

    assertThat(response.getResponsesList()).as("response.getResponsesList()").hasSize(2);
    for (BatchUpdateBlobsResponse.Response r : response.getResponsesList()) {
      int expected =
          r.getDigest().equals(Digest.of(good).toProto())
              ? Status.Code.OK.value()
              : Status.Code.INVALID_ARGUMENT.value();
      assertThat(r.getStatus().getCode()).as("status of %s", r.getDigest()).isEqualTo(expected);
    }
    assertThat(findMissing(List.of(good, claimed)))
        .as("findMissing(List.of(good, claimed))")
        .containsExactly(Digest.of(claimed).toProto());
  }

  /** A digest whose hash is not 64 hex digits is INVALID_ARGUMENT, not a miss. */
  @Test
  public void malformedDigestIsInvalidArgument() {
    build.bazel.remote.execution.v2.Digest malformed =
        build.bazel.remote.execution.v2.Digest.newBuilder()
            .setHash("not-a-sha256")
            .setSizeBytes(3)
            .build();

    assertStatus(
        () ->
            calls()
                .unary(
                    ReapiCalls.FIND_MISSING,
                    FindMissingBlobsRequest.newBuilder().addBlobDigests(malformed).build()),
        Status.Code.INVALID_ARGUMENT);
    assertStatus(
        () -> readAll(ReadRequest.newBuilder().setResourceName("blobs/not-a-sha256/3").build()),
        Status.Code.INVALID_ARGUMENT);
  }

  /** An instance name the server does not serve fails with a status that names it. */
  @Test
  public void unknownInstanceIsAClearError() {
    StatusRuntimeException e =
        catchStatus(
            () ->
                calls()
                    .unary(
                        ReapiCalls.FIND_MISSING,
                        FindMissingBlobsRequest.newBuilder()
                            .setInstanceName("no-such-instance")
                            .addBlobDigests(Digest.of(randomBlob(10)).toProto())
                            .build()));

    assertThat(e.getStatus().getCode())
        .as("e.getStatus().getCode()")
        .isIn(Status.Code.INVALID_ARGUMENT, Status.Code.NOT_FOUND);
    assertThat(e.getStatus().getDescription())
        .as("e.getStatus().getDescription()")
        .contains("no-such-instance");
  }

  // ---- ByteStream ----

  /** A blob written in several chunks is stored whole and read back from any offset and limit. */
  @Test
  public void byteStreamChunkedWriteThenRangedRead() {
    ByteString data = randomBlob(150_000);
    Digest digest = Digest.of(data);

    WriteResponse written = write(uploadName("ci/linux", digest), data, 16_384);

    assertThat(written.getCommittedSize()).as("written.getCommittedSize()").isEqualTo(data.size());
    String name = "ci/linux/blobs/" + digest.hash() + "/" + digest.sizeBytes();
    assertThat(readAll(ReadRequest.newBuilder().setResourceName(name).build()))
        .as("readAll(ReadRequest.newBuilder().setResourceName(name).build())")
        .isEqualTo(data);
    assertThat(
            readAll(
                ReadRequest.newBuilder()
                    .setResourceName(name)
                    .setReadOffset(70_000)
                    .setReadLimit(33_333)
                    .build()))
        .as(
            "readAll( ReadRequest.newBuilder() .setResourceName(name) .setReadOffset(70_000) .setRea...")
        .isEqualTo(data.substring(70_000, 103_333));
    assertThat(
            readAll(ReadRequest.newBuilder().setResourceName(name).setReadOffset(149_990).build()))
        .as(
            "readAll(ReadRequest.newBuilder().setResourceName(name).setReadOffset(149_990).build())")
        .isEqualTo(data.substring(149_990));
  }

  /** Reading a blob the CAS lacks is NOT_FOUND. */
  @Test
  public void byteStreamReadOfAnAbsentBlobIsNotFound() {
    Digest absent = Digest.of(randomBlob(50));

    assertStatus(
        () ->
            readAll(
                ReadRequest.newBuilder()
                    .setResourceName("blobs/" + absent.hash() + "/" + absent.sizeBytes())
                    .build()),
        Status.Code.NOT_FOUND);
  }

  /** A write whose content does not match its digest is refused and stores nothing. */
  @Test
  public void byteStreamWriteOfMismatchedContentIsRefused() {
    ByteString claimed = randomBlob(5000);
    ByteString sent = randomBlob(5000);

    assertStatus(
        () -> write(uploadName("", Digest.of(claimed)), sent, 1024), Status.Code.INVALID_ARGUMENT);
    assertThat(findMissing(List.of(claimed)))
        .as("findMissing(List.of(claimed))")
        .containsExactly(Digest.of(claimed).toProto());
  }

  /**
   * QueryWriteStatus reports a finished upload as complete, and a stream that ended without {@code
   * finish_write} as incomplete with at most the bytes sent committed; writing the rest from the
   * committed size then completes the blob.
   */
  @Test
  public void queryWriteStatusReportsProgress() {
    ByteString whole = randomBlob(10_000);
    String finished = uploadName("", Digest.of(whole));
    write(finished, whole, 4096);
    assertThat(queryWriteStatus(finished))
        .as("queryWriteStatus(finished)")
        .isEqualTo(
            QueryWriteStatusResponse.newBuilder()
                .setCommittedSize(whole.size())
                .setComplete(true)
                .build());

    ByteString data = randomBlob(9000);
    String name = uploadName("", Digest.of(data));
    WriteStream partial = writeStream(name);
    partial.send(0, data.substring(0, 3000), false);
    partial.halfClose();
    partial.awaitEnd();
    QueryWriteStatusResponse status = queryWriteStatus(name);

    assertThat(status.getComplete()).as("status.getComplete()").isFalse();
    assertThat(status.getCommittedSize()).as("status.getCommittedSize()").isBetween(0L, 3000L);
    int committed = (int) status.getCommittedSize();
    WriteStream resumed = writeStream(name);
    resumed.send(committed, data.substring(committed), true);
    resumed.halfClose();
    assertThat(resumed.awaitResponse().getCommittedSize())
        .as("resumed.awaitResponse().getCommittedSize()")
        .isEqualTo(data.size());
    assertThat(findMissing(List.of(data))).as("findMissing(List.of(data))").isEmpty();
  }

  // ---- action cache ----

  /** GetActionResult of an action never cached is NOT_FOUND, which clients read as a miss. */
  @Test
  public void getActionResultMissIsNotFound() {
    assertStatus(
        () ->
            calls()
                .unary(
                    ReapiCalls.GET_ACTION_RESULT,
                    GetActionResultRequest.newBuilder()
                        .setActionDigest(Digest.of(randomBlob(140)).toProto())
                        .build()),
        Status.Code.NOT_FOUND);
  }

  /** A result stored with UpdateActionResult is returned by GetActionResult. */
  @Test
  public void updateActionResultThenGet() {
    ByteString output = randomBlob(2000);
    batchUpdate("", List.of(output));
    Digest action = Digest.of(randomBlob(140));
    ActionResult result =
        ActionResult.newBuilder()
            .setExitCode(0)
            .addOutputFiles(
                OutputFile.newBuilder()
                    .setPath("out/lib.jar")
                    .setDigest(Digest.of(output).toProto()))
            .build();

    ActionResult stored =
        calls()
            .unary(
                ReapiCalls.UPDATE_ACTION_RESULT,
                UpdateActionResultRequest.newBuilder()
                    .setActionDigest(action.toProto())
                    .setActionResult(result)
                    .build());
    ActionResult got =
        calls()
            .unary(
                ReapiCalls.GET_ACTION_RESULT,
                GetActionResultRequest.newBuilder().setActionDigest(action.toProto()).build());

    assertThat(stored.getOutputFilesList())
        .as("stored.getOutputFilesList()")
        .isEqualTo(result.getOutputFilesList());
    assertThat(got.getExitCode()).as("got.getExitCode()").isZero();
    assertThat(got.getOutputFilesList())
        .as("got.getOutputFilesList()")
        .isEqualTo(result.getOutputFilesList());
  }

  /** An instance without action-cache updates refuses UpdateActionResult: PERMISSION_DENIED. */
  @Test
  public void updateActionResultOnAReadOnlyInstanceIsDenied() {
    assertStatus(
        () ->
            calls()
                .unary(
                    ReapiCalls.UPDATE_ACTION_RESULT,
                    UpdateActionResultRequest.newBuilder()
                        .setInstanceName("readonly")
                        .setActionDigest(Digest.of(randomBlob(140)).toProto())
                        .setActionResult(ActionResult.newBuilder().setExitCode(1))
                        .build()),
        Status.Code.PERMISSION_DENIED);
  }

  // ---- concurrency ----

  /**
   * Eight clients, each on its own channel, write blobs by batch and by ByteStream at once and read
   * back every one, their own and the others'.
   */
  @Test
  public void concurrentClientsSeeEachOthersBlobs() {
    int clients = 8;
    int perClient = 6;
    List<List<ByteString>> blobs = new ArrayList<>();
    for (int c = 0; c < clients; c++) {
      List<ByteString> mine = new ArrayList<>();
      for (int i = 0; i < perClient; i++) {
        mine.add(randomBlob(i % 2 == 0 ? 3000 : 40_000));
      }
      blobs.add(mine);
    }

    TransportSupport.runConcurrently(
        clients,
        (client, barrier) -> {
          ReapiCalls mine = new ReapiCalls(newChannel(), TIMEOUT.toSeconds());
          for (ByteString blob : blobs.get(client)) {
            if (blob.size() < 10_000) {
              BatchUpdateBlobsResponse r =
                  mine.unary(
                      ReapiCalls.BATCH_UPDATE,
                      BatchUpdateBlobsRequest.newBuilder()
                          .addRequests(updateRequest(Digest.of(blob), blob))
                          .build());
              assertThat(r.getResponses(0).getStatus().getCode())
                  .as("r.getResponses(0).getStatus().getCode()")
                  .isZero();
            } else {
              assertThat(write(mine, uploadName("", Digest.of(blob)), blob, 8192))
                  .as("write(mine, uploadName(\"\", Digest.of(blob)), blob, 8192)")
                  .extracting(WriteResponse::getCommittedSize)
                  .isEqualTo((long) blob.size());
            }
          }
          barrier.await(TransportSupport.TIMEOUT_SECONDS, TimeUnit.SECONDS);
          for (List<ByteString> anyones : blobs) {
            for (ByteString blob : anyones) {
              Digest digest = Digest.of(blob);
              ByteString read =
                  readAll(
                      mine,
                      ReadRequest.newBuilder()
                          .setResourceName("blobs/" + digest.hash() + "/" + digest.sizeBytes())
                          .build());
              assertThat(read).as("read").isEqualTo(blob);
            }
          }
        });
  }

  // ---- helpers ----

  /** {@return a client of the REAPI services over {@link #channel()}} */
  final ReapiCalls calls() {
    return new ReapiCalls(channel(), TIMEOUT.toSeconds());
  }

  /** {@return {@code size} bytes from the suite's seeded generator, the same in every run} */
  private ByteString randomBlob(int size) {
    byte[] bytes = new byte[size];
    synchronized (random) {
      random.nextBytes(bytes);
    }
    return ByteString.copyFrom(bytes);
  }

  private static String uploadName(String instance, Digest digest) {
    return (instance.isEmpty() ? "" : instance + "/")
        + "uploads/"
        + UUID.randomUUID()
        + "/blobs/"
        + digest.hash()
        + "/"
        + digest.sizeBytes();
  }

  private ServerCapabilities capabilities(String instance) {
    return calls()
        .unary(
            ReapiCalls.GET_CAPABILITIES,
            GetCapabilitiesRequest.newBuilder().setInstanceName(instance).build());
  }

  private boolean updateEnabled(String instance) {
    return capabilities(instance)
        .getCacheCapabilities()
        .getActionCacheUpdateCapabilities()
        .getUpdateEnabled();
  }

  private static BatchUpdateBlobsRequest.Request updateRequest(Digest digest, ByteString data) {
    return BatchUpdateBlobsRequest.Request.newBuilder()
        .setDigest(digest.toProto())
        .setData(data)
        .build();
  }

  private BatchUpdateBlobsResponse batchUpdate(String instance, List<ByteString> blobs) {
    BatchUpdateBlobsRequest.Builder request =
        BatchUpdateBlobsRequest.newBuilder().setInstanceName(instance);
    blobs.forEach(b -> request.addRequests(updateRequest(Digest.of(b), b)));
    return calls().unary(ReapiCalls.BATCH_UPDATE, request.build());
  }

  private List<build.bazel.remote.execution.v2.Digest> findMissing(List<ByteString> blobs) {
    FindMissingBlobsRequest.Builder request = FindMissingBlobsRequest.newBuilder();
    blobs.forEach(b -> request.addBlobDigests(Digest.of(b).toProto()));
    return calls().unary(ReapiCalls.FIND_MISSING, request.build()).getMissingBlobDigestsList();
  }

  private QueryWriteStatusResponse queryWriteStatus(String name) {
    return calls()
        .unary(
            ReapiCalls.QUERY_WRITE_STATUS,
            QueryWriteStatusRequest.newBuilder().setResourceName(name).build());
  }

  private ByteString readAll(ReadRequest request) {
    return readAll(calls(), request);
  }

  private static ByteString readAll(ReapiCalls calls, ReadRequest request) {
    ByteString data = ByteString.EMPTY;
    Iterator<com.google.bytestream.ByteStreamProto.ReadResponse> responses =
        calls.serverStreaming(ReapiCalls.READ, request);
    while (responses.hasNext()) {
      data = data.concat(responses.next().getData());
    }
    return data;
  }

  private WriteResponse write(String name, ByteString data, int chunk) {
    return write(calls(), name, data, chunk);
  }

  private static WriteResponse write(ReapiCalls calls, String name, ByteString data, int chunk) {
    WriteStream stream = new WriteStream(calls, name);
    for (int offset = 0; offset < data.size(); offset += chunk) {
      int end = Math.min(data.size(), offset + chunk);
      stream.send(offset, data.substring(offset, end), end == data.size());
    }
    stream.halfClose();
    return stream.awaitResponse();
  }

  private static StatusRuntimeException catchStatus(Runnable call) {
    Throwable thrown = catchThrowable(call::run);
    assertThat(thrown).as("the call's failure").isInstanceOf(StatusRuntimeException.class);
    return (StatusRuntimeException) thrown;
  }

  private static void assertStatus(Runnable call, Status.Code code) {
    StatusRuntimeException e = catchStatus(call);
    assertThat(e.getStatus().getCode()).as("status of %s", e).isEqualTo(code);
    assertThat(e.getStatus().getDescription()).as("description of %s", e).isNotBlank();
  }

  private void afterTest(ExtensionContext unused) {
    List<ManagedChannel> open;
    Transport running;
    synchronized (this) {
      open = List.copyOf(channels);
      channels.clear();
      channel = null;
      running = transport;
      transport = null;
    }
    for (ManagedChannel c : open) {
      c.shutdownNow();
    }
    try {
      for (ManagedChannel c : open) {
        c.awaitTermination(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      if (running != null) {
        running.shutdown(Duration.ofSeconds(2));
      }
    }
  }

  private WriteStream writeStream(String name) {
    return new WriteStream(calls(), name);
  }

  /** One ByteStream Write, driven by hand. */
  private static final class WriteStream {
    private final CompletableFuture<WriteResponse> response = new CompletableFuture<>();
    private final StreamObserver<WriteRequest> requests;
    private final String name;

    WriteStream(ReapiCalls calls, String name) {
      this.name = name;
      this.requests =
          calls.clientStreaming(
              ReapiCalls.WRITE,
              new StreamObserver<>() {
                @Override
                public void onNext(WriteResponse value) {
                  response.complete(value);
                }

                @Override
                public void onError(Throwable t) {
                  response.completeExceptionally(t);
                }

                @Override
                public void onCompleted() {
                  response.completeExceptionally(
                      new AssertionError("Write completed without a response"));
                }
              });
    }

    void send(long offset, ByteString data, boolean finish) {
      requests.onNext(
          WriteRequest.newBuilder()
              .setResourceName(name)
              .setWriteOffset(offset)
              .setData(data)
              .setFinishWrite(finish)
              .build());
    }

    void halfClose() {
      requests.onCompleted();
    }

    /** Waits for the response; a failed Write rethrows its StatusRuntimeException. */
    WriteResponse awaitResponse() {
      try {
        return response.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        if (e.getCause() instanceof RuntimeException runtime) {
          throw runtime;
        }
        throw new AssertionError("Write of " + name + " failed", e.getCause());
      } catch (TimeoutException e) {
        throw new AssertionError("no response to the Write of " + name + " in " + TIMEOUT, e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted", e);
      }
    }

    /** Waits for the Write to end, whether it succeeded or failed. */
    void awaitEnd() {
      try {
        response.handle((r, t) -> null).get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
      } catch (ExecutionException | TimeoutException e) {
        throw new AssertionError("the Write of " + name + " did not end in " + TIMEOUT, e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted", e);
      }
    }
  }
}
