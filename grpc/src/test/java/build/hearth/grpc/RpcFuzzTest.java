package build.hearth.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import build.bazel.remote.execution.v2.Action;
import build.bazel.remote.execution.v2.ActionCacheGrpc;
import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.BatchReadBlobsRequest;
import build.bazel.remote.execution.v2.BatchUpdateBlobsRequest;
import build.bazel.remote.execution.v2.CapabilitiesGrpc;
import build.bazel.remote.execution.v2.Command;
import build.bazel.remote.execution.v2.ContentAddressableStorageGrpc;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.DirectoryNode;
import build.bazel.remote.execution.v2.ExecuteRequest;
import build.bazel.remote.execution.v2.ExecutionGrpc;
import build.bazel.remote.execution.v2.FileNode;
import build.bazel.remote.execution.v2.FindMissingBlobsRequest;
import build.bazel.remote.execution.v2.GetActionResultRequest;
import build.bazel.remote.execution.v2.GetCapabilitiesRequest;
import build.bazel.remote.execution.v2.GetTreeRequest;
import build.bazel.remote.execution.v2.OutputFile;
import build.bazel.remote.execution.v2.UpdateActionResultRequest;
import build.bazel.remote.execution.v2.WaitExecutionRequest;
import build.hearth.api.ActionCache;
import build.hearth.api.ContentAddressableStorage;
import build.hearth.api.Digest;
import build.hearth.api.ExecutionService;
import build.hearth.core.Storage;
import build.hearth.core.execution.ExecutionServices;
import build.hearth.core.internal.ProtoTime;
import build.hearth.core.remote.SchedulerWorkerHub;
import build.hearth.core.scheduler.Scheduler;
import build.hearth.proto.workerapi.ActionFinished;
import build.hearth.proto.workerapi.KeepAlive;
import build.hearth.proto.workerapi.Register;
import build.hearth.proto.workerapi.WorkerApiGrpc;
import build.hearth.proto.workerapi.WorkerMessage;
import build.hearth.spi.storage.ActionCacheStore;
import build.hearth.spi.storage.BlobStore;
import build.hearth.spi.storage.StoreStats;
import build.hearth.spi.transport.InstanceServices;
import build.hearth.spi.transport.TransportContext;
import build.hearth.spi.worker.ActionOutcome;
import build.hearth.spi.worker.ExecutionTask;
import com.google.bytestream.ByteStreamGrpc;
import com.google.bytestream.ByteStreamProto.QueryWriteStatusRequest;
import com.google.bytestream.ByteStreamProto.ReadRequest;
import com.google.bytestream.ByteStreamProto.WriteRequest;
import com.google.longrunning.CancelOperationRequest;
import com.google.longrunning.DeleteOperationRequest;
import com.google.longrunning.GetOperationRequest;
import com.google.longrunning.ListOperationsRequest;
import com.google.longrunning.OperationsGrpc;
import com.google.longrunning.WaitOperationRequest;
import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Random and mutated messages sent to every RPC of a real loopback server (the memory stores, the
 * real execution service and scheduler, the worker API): Capabilities, the CAS, ByteStream, the
 * action cache, Execution, Operations and the worker API's stream. Each message is either random
 * bytes that parse as the request type, or a valid request whose fields (digests, sizes, instance
 * and resource names, page tokens, offsets, repeated fields made huge) were changed at random.
 *
 * <p>The properties, checked after every call: the server still answers a probe; the status is
 * never {@code INTERNAL}, {@code UNKNOWN} or {@code DATA_LOSS}, and its description never carries a
 * Java exception's class name or a stack frame; a refused request changes neither store. Tries are
 * bounded, and so is each call (a deadline), so the whole class stops by itself in about a minute.
 * The seeds are fixed by jqwik's {@code seed} attribute so that a failure repeats.
 */
class RpcFuzzTest {
  /** How long one fuzzed call may take; a call still open then is cancelled by its deadline. */
  private static final Duration CALL_DEADLINE = Duration.ofSeconds(2);

  /** What never answers an input error, whatever the input. */
  private static final List<Status.Code> NEVER =
      List.of(Status.Code.INTERNAL, Status.Code.UNKNOWN, Status.Code.DATA_LOSS);

  /** A Java exception's class name or a stack frame in a status description. */
  private static final Pattern LEAKED_INTERNALS =
      Pattern.compile(
          "Exception|Error:|\\tat |\\bat [a-z][\\w$]*(\\.[\\w$]+)+\\(|java\\.(lang|io|util|nio)\\.");

  private static final MethodDescriptor.Marshaller<byte[]> BYTES =
      new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
          return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
          try {
            return stream.readAllBytes();
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        }
      };

  private static FuzzedServer server;
  private static ByteString knownBlob;
  private static Digest knownDigest;
  private static Digest treeRoot;
  private static Digest action;
  private static ActionResult knownResult;
  private static List<String> stringPool;

  /** What each RPC answered, logged at the end: the figures of docs/reliability.md. */
  private static final java.util.Map<String, java.util.Map<Status.Code, Integer>> answers =
      new java.util.TreeMap<>();

  /**
   * What {@link RemoteExecutionServer} serves (the memory stores, the real execution service and
   * scheduler, the worker API), with action-cache updates allowed, so that UpdateActionResult is
   * fuzzed past its permission.
   */
  private static final class FuzzedServer implements AutoCloseable {
    final BlobStore blobs = MemoryStores.blobStore();
    final ActionCacheStore actionCacheStore = MemoryStores.actionCacheStore();
    final ContentAddressableStorage cas = Storage.cas(blobs);
    final ActionCache actionCache = Storage.actionCache(actionCacheStore, cas);
    final Scheduler<ExecutionTask, ActionOutcome> scheduler =
        Scheduler.newBuilder().expiryCheckInterval(Duration.ofMillis(50)).build();
    final LoopbackServer transport;

    FuzzedServer() {
      ExecutionService executions =
          ExecutionServices.newBuilder()
              .instanceName("")
              .cas(cas)
              .actionCache(actionCache)
              .scheduler(scheduler)
              .build();
      transport =
          new LoopbackServer(
              port ->
                  TransportContext.newBuilder("fuzzed", "127.0.0.1", port)
                      .instance(
                          new InstanceServices(
                              "", cas, Optional.of(actionCache), true, Optional.of(executions)))
                      .workerHub(new SchedulerWorkerHub("main", scheduler, null, null))
                      .build(),
              GrpcSettings.defaults()
                  .withWorkerKeepAliveInterval(RemoteExecutionServer.KEEP_ALIVE));
    }

    ManagedChannel channel() {
      return transport.channel();
    }

    @Override
    public void close() {
      transport.close();
      scheduler.close();
      blobs.close();
      actionCacheStore.close();
    }
  }

  /** One RPC: its method and the valid messages a fuzzed call starts from. */
  private record Rpc(MethodDescriptor<?, ?> method, Supplier<List<Message>> seed) {
    boolean oneRequest() {
      return method.getType() == MethodDescriptor.MethodType.UNARY
          || method.getType() == MethodDescriptor.MethodType.SERVER_STREAMING;
    }

    @Override
    public String toString() {
      return method.getFullMethodName();
    }
  }

  @BeforeContainer
  static void startServer() {
    server = new FuzzedServer();
    knownBlob = ByteString.copyFromUtf8("the fuzz test's known blob\n");
    knownDigest = server.cas.put(knownBlob);
    Directory leaf =
        Directory.newBuilder()
            .addFiles(FileNode.newBuilder().setName("known").setDigest(knownDigest.toProto()))
            .build();
    Digest leafDigest = server.cas.put(leaf.toByteString());
    treeRoot =
        server.cas.put(
            Directory.newBuilder()
                .addDirectories(
                    DirectoryNode.newBuilder().setName("sub").setDigest(leafDigest.toProto()))
                .build()
                .toByteString());
    action =
        server.cas.put(
            Action.newBuilder()
                .setCommandDigest(
                    server
                        .cas
                        .put(Command.newBuilder().addArguments("/bin/true").build().toByteString())
                        .toProto())
                .setInputRootDigest(treeRoot.toProto())
                .setTimeout(ProtoTime.of(Duration.ofSeconds(5)))
                .build()
                .toByteString());
    knownResult =
        ActionResult.newBuilder()
            .addOutputFiles(
                OutputFile.newBuilder().setPath("out/known").setDigest(knownDigest.toProto()))
            .setExitCode(0)
            .build();
    server.actionCache.put(action, knownResult);
    String hash = knownDigest.hash();
    long size = knownDigest.sizeBytes();
    stringPool =
        List.of(
            "",
            "main",
            "nope",
            "../../etc/passwd",
            "/",
            "//",
            "blobs",
            "uploads",
            "\u0000",
            "é/ü/ß",
            "x".repeat(5000),
            hash,
            hash.toUpperCase(),
            hash.substring(1),
            hash + "0",
            "blobs/" + hash + "/" + size,
            "blobs/" + hash + "/" + (size + 1),
            "blobs/" + hash + "/-1",
            "blobs/" + hash + "/99999999999999999999",
            "blobs/" + hash,
            "uploads/" + UUID.randomUUID() + "/blobs/" + hash + "/" + size,
            "uploads//blobs/" + hash + "/" + size,
            "uploads/" + UUID.randomUUID() + "/blobs/" + Digest.EMPTY.hash() + "/0",
            "uploads/u/compressed-blobs/zstd/" + hash + "/" + size,
            "compressed-blobs/zstd/" + hash + "/" + size,
            "compressed-blobs/identity/" + hash + "/" + size,
            "operations/" + UUID.randomUUID(),
            "operations/",
            "operations/../operations/x",
            "OSFamily",
            "linux",
            "persistentWorkerKey",
            "-1",
            "999999999999999999999");
  }

  @AfterContainer
  static void stopServer() {
    answers.forEach(
        (method, codes) -> System.out.println("RpcFuzzTest: " + method + " answered " + codes));
    if (server != null) {
      server.close();
    }
  }

  /** Every RPC the server serves, each with the valid messages a call of it sends. */
  private static List<Rpc> rpcs() {
    String hash = knownDigest.hash();
    long size = knownDigest.sizeBytes();
    ByteString fresh = ByteString.copyFromUtf8("a blob the fuzz test writes " + UUID.randomUUID());
    Digest freshDigest = Digest.of(fresh);
    String upload = "uploads/" + UUID.randomUUID() + "/blobs/" + freshDigest.hash() + "/";
    return List.of(
        new Rpc(
            CapabilitiesGrpc.getGetCapabilitiesMethod(),
            () -> List.of(GetCapabilitiesRequest.getDefaultInstance())),
        new Rpc(
            ContentAddressableStorageGrpc.getFindMissingBlobsMethod(),
            () ->
                List.of(
                    FindMissingBlobsRequest.newBuilder()
                        .addBlobDigests(knownDigest.toProto())
                        .addBlobDigests(freshDigest.toProto())
                        .build())),
        new Rpc(
            ContentAddressableStorageGrpc.getBatchUpdateBlobsMethod(),
            () ->
                List.of(
                    BatchUpdateBlobsRequest.newBuilder()
                        .addRequests(
                            BatchUpdateBlobsRequest.Request.newBuilder()
                                .setDigest(freshDigest.toProto())
                                .setData(fresh))
                        .build())),
        new Rpc(
            ContentAddressableStorageGrpc.getBatchReadBlobsMethod(),
            () ->
                List.of(
                    BatchReadBlobsRequest.newBuilder()
                        .addDigests(knownDigest.toProto())
                        .addDigests(treeRoot.toProto())
                        .build())),
        new Rpc(
            ContentAddressableStorageGrpc.getGetTreeMethod(),
            () ->
                List.of(
                    GetTreeRequest.newBuilder()
                        .setRootDigest(treeRoot.toProto())
                        .setPageSize(1)
                        .build())),
        new Rpc(
            ByteStreamGrpc.getReadMethod(),
            () ->
                List.of(
                    ReadRequest.newBuilder()
                        .setResourceName("blobs/" + hash + "/" + size)
                        .setReadOffset(1)
                        .setReadLimit(4)
                        .build())),
        new Rpc(
            ByteStreamGrpc.getWriteMethod(),
            () ->
                List.of(
                    WriteRequest.newBuilder()
                        .setResourceName(upload + fresh.size())
                        .setData(fresh.substring(0, 5))
                        .build(),
                    WriteRequest.newBuilder()
                        .setWriteOffset(5)
                        .setData(fresh.substring(5))
                        .setFinishWrite(true)
                        .build())),
        new Rpc(
            ByteStreamGrpc.getQueryWriteStatusMethod(),
            () ->
                List.of(
                    QueryWriteStatusRequest.newBuilder()
                        .setResourceName(upload + fresh.size())
                        .build())),
        new Rpc(
            ActionCacheGrpc.getGetActionResultMethod(),
            () ->
                List.of(
                    GetActionResultRequest.newBuilder()
                        .setActionDigest(action.toProto())
                        .setInlineStdout(true)
                        .addInlineOutputFiles("out/known")
                        .build())),
        new Rpc(
            ActionCacheGrpc.getUpdateActionResultMethod(),
            () ->
                List.of(
                    UpdateActionResultRequest.newBuilder()
                        .setActionDigest(action.toProto())
                        .setActionResult(knownResult)
                        .build())),
        new Rpc(
            ExecutionGrpc.getExecuteMethod(),
            () ->
                List.of(
                    ExecuteRequest.newBuilder()
                        .setActionDigest(action.toProto())
                        .setSkipCacheLookup(false)
                        .build())),
        new Rpc(
            ExecutionGrpc.getWaitExecutionMethod(),
            () ->
                List.of(
                    WaitExecutionRequest.newBuilder()
                        .setName("operations/" + UUID.randomUUID())
                        .build())),
        new Rpc(
            OperationsGrpc.getGetOperationMethod(),
            () ->
                List.of(
                    GetOperationRequest.newBuilder()
                        .setName("operations/" + UUID.randomUUID())
                        .build())),
        new Rpc(
            OperationsGrpc.getListOperationsMethod(),
            () ->
                List.of(
                    ListOperationsRequest.newBuilder()
                        .setName("operations")
                        .setPageSize(2)
                        .setPageToken("1")
                        .build())),
        new Rpc(
            OperationsGrpc.getCancelOperationMethod(),
            () ->
                List.of(
                    CancelOperationRequest.newBuilder()
                        .setName("operations/" + UUID.randomUUID())
                        .build())),
        new Rpc(
            OperationsGrpc.getDeleteOperationMethod(),
            () ->
                List.of(
                    DeleteOperationRequest.newBuilder()
                        .setName("operations/" + UUID.randomUUID())
                        .build())),
        new Rpc(
            OperationsGrpc.getWaitOperationMethod(),
            () ->
                List.of(
                    WaitOperationRequest.newBuilder()
                        .setName("operations/" + UUID.randomUUID())
                        .build())),
        new Rpc(
            WorkerApiGrpc.getConnectMethod(),
            () ->
                List.of(
                    WorkerMessage.newBuilder()
                        .setRegister(
                            Register.newBuilder().setName("fuzz-" + UUID.randomUUID()).setSlots(1))
                        .build(),
                    WorkerMessage.newBuilder().setKeepAlive(KeepAlive.getDefaultInstance()).build(),
                    WorkerMessage.newBuilder()
                        .setFinished(
                            ActionFinished.newBuilder()
                                .setAssignmentId(UUID.randomUUID().toString())
                                .setResult(knownResult))
                        .build())));
  }

  @Provide
  Arbitrary<Rpc> anyRpc() {
    return Arbitraries.of(rpcs());
  }

  /**
   * Valid requests with fields changed at random: strings from a pool of hostile names (resource
   * names, digests, operation names, huge and control characters), integers at their edges, bytes
   * random, repeated fields cleared, extended or made huge, nested messages changed the same way.
   */
  @Property(tries = 700, seed = "15", maxDiscardRatio = 50)
  void mutatedRequestsAreAnsweredPreciselyAndChangeNothingWhenRefused(
      @ForAll("anyRpc") Rpc rpc, @ForAll long mutationSeed) {
    Random random = new Random(mutationSeed);
    List<Message> messages = new ArrayList<>();
    for (Message seed : rpc.seed().get()) {
      messages.add(random.nextInt(4) == 0 ? seed : mutate(seed, random, 0));
    }
    if (!rpc.oneRequest() && random.nextInt(8) == 0) {
      // A stream that repeats, drops or reorders its messages.
      messages.add(messages.get(random.nextInt(messages.size())));
      if (random.nextBoolean()) {
        messages.remove(0);
      }
    }
    check(rpc, messages.stream().map(Message::toByteArray).toList());
  }

  /** Random bytes that parse as the request type (most random bytes do not, and are discarded). */
  @Property(tries = 300, seed = "15", maxDiscardRatio = 50)
  void randomBytesParsedAsTheRequestAreAnsweredPrecisely(
      @ForAll("anyRpc") Rpc rpc, @ForAll long bytesSeed) {
    Random random = new Random(bytesSeed);
    List<byte[]> messages = new ArrayList<>();
    int count = rpc.oneRequest() ? 1 : 1 + random.nextInt(3);
    Message prototype = rpc.seed().get().get(0);
    for (int i = 0; i < count; i++) {
      byte[] bytes = randomWireFormat(random, 1 + random.nextInt(6));
      try {
        prototype.getParserForType().parseFrom(bytes);
      } catch (InvalidProtocolBufferException e) {
        // Not a message of this type: gRPC's own parser refuses it before Hearth sees it.
        net.jqwik.api.Assume.that(false);
      }
      messages.add(bytes);
    }
    check(rpc, messages);
  }

  /** The check of descriptions finds what a leaked exception looks like, and only that. */
  @Example
  void leakedInternalsAreRecognised() {
    assertThat("java.lang.NullPointerException: Cannot invoke \"String.length()\"")
        .containsPattern(LEAKED_INTERNALS);
    assertThat("failed\n\tat build.hearth.core.cas.TreeReader.read(TreeReader.java:42)")
        .containsPattern(LEAKED_INTERNALS);
    assertThat("io.grpc.StatusRuntimeException: INTERNAL").containsPattern(LEAKED_INTERNALS);
    assertThat("the digest's hash must be 64 lowercase hex characters, not \"ab\"")
        .doesNotContainPattern(LEAKED_INTERNALS);
  }

  /**
   * Bytes that are no message of the request's type at all (a zero tag is never valid protobuf):
   * they are refused before a service sees them, and the server must answer with a status that says
   * so ({@code INVALID_ARGUMENT}) and keep serving. ByteStream Write, which parses its own
   * requests, does; with grpc-java's generated marshallers a parse failure closes the call with
   * {@code UNKNOWN} ("Application error processing RPC"), so this fails until the transport maps a
   * request that does not parse to {@code INVALID_ARGUMENT} for every method.
   */
  @Property(tries = 150, seed = "15")
  void bytesThatAreNoMessageAreRefusedAsInvalid(@ForAll("anyRpc") Rpc rpc, @ForAll long bytesSeed) {
    Random random = new Random(bytesSeed);
    byte[] bytes = new byte[1 + random.nextInt(64)];
    random.nextBytes(bytes);
    // A field number 0 (a zero tag) is never valid protobuf.
    bytes[0] = 0;
    check(rpc, List.of(bytes));
  }

  /** Sends {@code messages} on one call of {@code rpc} and checks the properties. */
  private static void check(Rpc rpc, List<byte[]> messages) {
    StoreStats blobsBefore = server.blobs.stats();
    StoreStats resultsBefore = server.actionCacheStore.stats();
    ActionResult resultBefore = server.actionCache.get(action).orElse(null);

    Outcome outcome = call(rpc.method(), messages);

    Status status = outcome.status();
    answers
        .computeIfAbsent(rpc.toString(), m -> new java.util.EnumMap<>(Status.Code.class))
        .merge(status.getCode(), 1, Integer::sum);
    String description = String.valueOf(status.getDescription());
    assertThat(status.getCode())
        .as("%s answered %s: %s", rpc, status.getCode(), description)
        .isNotIn(NEVER);
    assertThat(description)
        .as("the description of %s from %s", status.getCode(), rpc)
        .doesNotContainPattern(LEAKED_INTERNALS);
    if (!status.isOk() && status.getCode() != Status.Code.DEADLINE_EXCEEDED) {
      assertThat(server.blobs.stats().entries())
          .as("blobs after %s refused with %s: %s", rpc, status.getCode(), description)
          .isEqualTo(blobsBefore.entries());
      assertThat(server.blobs.stats().sizeBytes()).isEqualTo(blobsBefore.sizeBytes());
      assertThat(server.actionCacheStore.stats().entries())
          .as("action-cache entries after %s refused with %s", rpc, status.getCode())
          .isEqualTo(resultsBefore.entries());
      assertThat(server.actionCache.get(action).orElse(null))
          .as("the known action's result after %s refused with %s", rpc, status.getCode())
          .isEqualTo(resultBefore);
    }
    // The server still answers, and still holds what it held.
    assertThat(
            LoopbackServer.withTimeout(
                    ContentAddressableStorageGrpc.newBlockingStub(server.channel()))
                .findMissingBlobs(
                    FindMissingBlobsRequest.newBuilder()
                        .addBlobDigests(knownDigest.toProto())
                        .build())
                .getMissingBlobDigestsList())
        .as("the known blob after %s", rpc)
        .isEmpty();
  }

  private record Outcome(Status status, int responses) {}

  /** One call of {@code method} with raw request bytes: its status once it closes. */
  private static Outcome call(MethodDescriptor<?, ?> method, List<byte[]> messages) {
    ManagedChannel channel = server.channel();
    MethodDescriptor<byte[], byte[]> raw = method.toBuilder(BYTES, BYTES).build();
    ClientCall<byte[], byte[]> call =
        channel.newCall(
            raw,
            CallOptions.DEFAULT.withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS));
    CompletableFuture<Status> closed = new CompletableFuture<>();
    int[] responses = new int[1];
    call.start(
        new ClientCall.Listener<>() {
          @Override
          public void onMessage(byte[] message) {
            responses[0]++;
            call.request(1);
          }

          @Override
          public void onClose(Status status, Metadata trailers) {
            closed.complete(status);
          }
        },
        new Metadata());
    call.request(1);
    try {
      for (byte[] message : messages) {
        call.sendMessage(message);
      }
      call.halfClose();
    } catch (IllegalStateException e) {
      // The server closed the call before the last message was sent.
    }
    try {
      Status status = closed.get(CALL_DEADLINE.toMillis() + 10_000, TimeUnit.MILLISECONDS);
      return new Outcome(status, responses[0]);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    } catch (ExecutionException | TimeoutException e) {
      throw new AssertionError(method.getFullMethodName() + " did not close after its deadline", e);
    }
  }

  /** {@code message} with one to three fields changed, nested messages changed in turn. */
  private static Message mutate(Message message, Random random, int depth) {
    Message.Builder builder = message.toBuilder();
    List<FieldDescriptor> fields = message.getDescriptorForType().getFields();
    if (fields.isEmpty()) {
      return message;
    }
    int changes = 1 + random.nextInt(3);
    for (int i = 0; i < changes; i++) {
      FieldDescriptor field = fields.get(random.nextInt(fields.size()));
      if (field.isMapField()) {
        continue;
      }
      if (field.isRepeated()) {
        int choice = random.nextInt(5);
        if (choice == 0) {
          builder.clearField(field);
        } else if (choice == 1 && depth == 0) {
          // Huge: as many copies of one value as fit in a few megabytes.
          Object value = randomValue(builder, field, random, depth);
          int copies = 1000 + random.nextInt(50_000);
          for (int c = 0; c < copies; c++) {
            builder.addRepeatedField(field, value);
          }
        } else {
          int add = 1 + random.nextInt(3);
          for (int c = 0; c < add; c++) {
            builder.addRepeatedField(field, randomValue(builder, field, random, depth));
          }
        }
      } else {
        builder.setField(field, randomValue(builder, field, random, depth));
      }
    }
    return builder.build();
  }

  private static Object randomValue(
      Message.Builder builder, FieldDescriptor field, Random random, int depth) {
    switch (field.getJavaType()) {
      case INT:
        return new int[] {0, 1, -1, 2, 16, Integer.MAX_VALUE, Integer.MIN_VALUE, random.nextInt()}
            [random.nextInt(8)];
      case LONG:
        return new long[] {
              0,
              1,
              -1,
              knownDigest.sizeBytes(),
              knownDigest.sizeBytes() + 1,
              1L << 31,
              1L << 40,
              Long.MAX_VALUE,
              Long.MIN_VALUE,
              random.nextLong()
            }
            [random.nextInt(10)];
      case FLOAT:
        return random.nextFloat();
      case DOUBLE:
        return random.nextBoolean() ? Double.NaN : random.nextDouble();
      case BOOLEAN:
        return random.nextBoolean();
      case STRING:
        return random.nextInt(6) == 0
            ? randomString(random)
            : stringPool.get(random.nextInt(stringPool.size()));
      case BYTE_STRING:
        return random.nextInt(4) == 0 ? knownBlob : ByteString.copyFrom(randomBytes(random));
      case ENUM:
        var values = field.getEnumType().getValues();
        return values.get(random.nextInt(values.size()));
      case MESSAGE:
        Message start =
            field.isRepeated() || random.nextBoolean()
                ? builder.newBuilderForField(field).getDefaultInstanceForType()
                : (Message) builder.getField(field);
        return depth >= 4 ? start : mutate(start, random, depth + 1);
      default:
        throw new AssertionError(field.getJavaType());
    }
  }

  private static String randomString(Random random) {
    StringBuilder text = new StringBuilder();
    int length = random.nextInt(40);
    for (int i = 0; i < length; i++) {
      text.appendCodePoint(
          random.nextBoolean() ? 0x20 + random.nextInt(0x5f) : random.nextInt(0x2000));
    }
    return text.toString();
  }

  private static byte[] randomBytes(Random random) {
    byte[] bytes = new byte[random.nextInt(64)];
    random.nextBytes(bytes);
    return bytes;
  }

  /**
   * Random fields in protobuf's wire format: field numbers 1 to 20, each wire type, varints at
   * their edges and length-delimited payloads that are random or themselves random fields.
   */
  private static byte[] randomWireFormat(Random random, int fields) {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    for (int i = 0; i < fields; i++) {
      int number = 1 + random.nextInt(20);
      int type = new int[] {0, 1, 2, 5}[random.nextInt(4)];
      writeVarint(out, ((long) number << 3) | type);
      switch (type) {
        case 0 -> writeVarint(out, random.nextBoolean() ? random.nextInt(300) : random.nextLong());
        case 1 -> out.writeBytes(new byte[] {1, 2, 3, 4, 5, 6, 7, (byte) random.nextInt()});
        case 5 -> out.writeBytes(new byte[] {1, 2, 3, (byte) random.nextInt()});
        default -> {
          byte[] payload =
              random.nextBoolean()
                  ? randomWireFormat(random, random.nextInt(3))
                  : random.nextBoolean()
                      ? stringPool
                          .get(random.nextInt(stringPool.size()))
                          .getBytes(StandardCharsets.UTF_8)
                      : randomBytes(random);
          writeVarint(out, payload.length);
          out.writeBytes(payload);
        }
      }
    }
    return out.toByteArray();
  }

  private static void writeVarint(java.io.ByteArrayOutputStream out, long value) {
    while ((value & ~0x7FL) != 0) {
      out.write((int) ((value & 0x7F) | 0x80));
      value >>>= 7;
    }
    out.write((int) value);
  }
}
