package build.hearth.grpc.bytestream;

import static build.hearth.grpc.TestServer.assertStatus;
import static build.hearth.grpc.TestServer.bytes;
import static build.hearth.grpc.TestServer.pattern;
import static build.hearth.grpc.TestServer.readName;
import static build.hearth.grpc.TestServer.uploadName;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import build.hearth.api.Digest;
import build.hearth.grpc.LoopbackServer;
import build.hearth.grpc.TestServer;
import com.google.bytestream.ByteStreamGrpc;
import com.google.bytestream.ByteStreamProto.QueryWriteStatusRequest;
import com.google.bytestream.ByteStreamProto.QueryWriteStatusResponse;
import com.google.bytestream.ByteStreamProto.ReadRequest;
import com.google.bytestream.ByteStreamProto.ReadResponse;
import com.google.bytestream.ByteStreamProto.WriteRequest;
import com.google.protobuf.ByteString;
import io.grpc.CallOptions;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.stub.ClientCalls;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Reads and writes; resumption and flow control are in {@link ByteStreamResumeTest}. */
class ByteStreamServiceTest {
  private TestServer server;

  @BeforeEach
  void start() {
    server = TestServer.start();
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private List<ReadResponse> read(String name, long offset, long limit) {
    List<ReadResponse> responses = new ArrayList<>();
    Iterator<ReadResponse> it =
        server
            .byteStream()
            .read(
                ReadRequest.newBuilder()
                    .setResourceName(name)
                    .setReadOffset(offset)
                    .setReadLimit(limit)
                    .build());
    it.forEachRemaining(responses::add);
    return responses;
  }

  private static ByteString concat(List<ReadResponse> responses) {
    ByteString all = ByteString.EMPTY;
    for (ReadResponse r : responses) {
      all = all.concat(r.getData());
    }
    return all;
  }

  private QueryWriteStatusResponse query(String name) {
    return server
        .byteStream()
        .queryWriteStatus(QueryWriteStatusRequest.newBuilder().setResourceName(name).build());
  }

  private void assertAbsent(Digest digest) {
    assertThat(server.cas.contains(digest)).isFalse();
    assertStatus(() -> read(readName("", digest), 0, 0), Status.Code.NOT_FOUND, digest.hash());
  }

  @Test
  void readsInChunksWithOffsetAndLimit() {
    ByteString data = pattern(20_000, 3);
    Digest digest = server.cas.put(data);

    List<ReadResponse> whole = read(readName("", digest), 0, 0);
    assertThat(concat(whole)).isEqualTo(data);
    // The test server reads in 4 KiB chunks.
    assertThat(whole).hasSize(5);
    assertThat(whole).allSatisfy(r -> assertThat(r.getData().size()).isLessThanOrEqualTo(4096));

    List<ReadResponse> slice = read(readName("ci/linux", digest), 1234, 9000);
    assertThat(concat(slice)).isEqualTo(data.substring(1234, 1234 + 9000));
    assertThat(slice.size()).isGreaterThan(1);

    assertThat(concat(read(readName("", digest), 19_000, 5000))).isEqualTo(data.substring(19_000));
    assertThat(read(readName("", digest), 20_000, 0)).isEmpty();
  }

  @Test
  void readErrors() {
    Digest digest = server.cas.put(bytes("ten bytes!"));
    Digest missing = Digest.of(bytes("missing"));

    assertStatus(
        () -> read(readName("", missing), 0, 0), Status.Code.NOT_FOUND, missing.toString());
    assertStatus(() -> read(readName("", digest), 11, 0), Status.Code.OUT_OF_RANGE, "offset 11");
    assertStatus(() -> read(readName("", digest), -1, 0), Status.Code.OUT_OF_RANGE, "offset -1");
    assertStatus(() -> read(readName("", digest), 0, -5), Status.Code.OUT_OF_RANGE, "limit -5");
    assertStatus(
        () -> read("main/blobs/" + digest, 0, 0),
        Status.Code.INVALID_ARGUMENT,
        "unknown instance name \"main\"",
        "(the default instance)");
    server.assertStillServing();
  }

  @Test
  void malformedReadNamesAreInvalidArgumentQuotingTheName() {
    String hash = Digest.of(bytes("x")).hash();
    String[] names = {
      "blobs/" + hash.toUpperCase() + "/1",
      "blobs/" + hash.substring(1) + "/1",
      "blobs/" + "g".repeat(64) + "/1",
      "blobs/" + hash + "/-1",
      "blobs/" + hash + "/one",
      "blobs/" + hash,
      "blobs/" + hash + "/1/extra",
      "/blobs/" + hash + "/1",
      "a//blobs/" + hash + "/1",
      "instance/" + hash + "/1",
      "uploads/" + hash + "/1",
    };
    for (String name : names) {
      assertStatus(
          () -> read(name, 0, 0), Status.Code.INVALID_ARGUMENT, "'" + name + "'", "{instance}");
    }
    assertStatus(() -> read("", 0, 0), Status.Code.INVALID_ARGUMENT, "resource_name is empty");
    assertStatus(
        () -> read("compressed-blobs/zstd/" + hash + "/1", 0, 0),
        Status.Code.UNIMPLEMENTED,
        "zstd",
        "no compression");
    assertStatus(
        () -> read("blobs/blake3/" + hash + "/1", 0, 0),
        Status.Code.INVALID_ARGUMENT,
        "blake3",
        "sha256 only");
    server.assertStillServing();
  }

  @Test
  void writesAChunkedBlobThatIsThenReadable() {
    ByteString data = pattern(50_000, 5);
    Digest digest = Digest.of(data);

    assertThat(server.write(uploadName("ci/linux", digest), data, 3000).getCommittedSize())
        .isEqualTo(50_000);

    assertThat(concat(read(readName("", digest), 0, 0))).isEqualTo(data);
    // The finished upload has no session left, and reports itself complete.
    assertThat(server.sessions().size()).isZero();
    QueryWriteStatusResponse status = query(uploadName("", digest));
    assertThat(status.getComplete()).isTrue();
    assertThat(status.getCommittedSize()).isEqualTo(50_000);
  }

  /**
   * The service hashes and stores each chunk straight from the transport's receive buffers and then
   * hands them back; chunks of any size, from one byte to several network reads, must arrive
   * intact, including while the next chunks are already being received into fresh buffers.
   */
  @Test
  void chunksOfEverySizeArriveIntact() {
    int[] sizes = {1, 16 * 1024, 3, 1024 * 1024, 3 * 1024 * 1024 + 17, 0, 64 * 1024 - 1};
    int total = 0;
    for (int size : sizes) {
      total += size;
    }
    ByteString data = pattern(total + 1000, 11);
    Digest digest = Digest.of(data);

    TestServer.Upload upload = server.new Upload();
    int offset = 0;
    for (int round = 0; round < 2; round++) {
      for (int size : sizes) {
        if (offset < data.size()) {
          int n = Math.min(size, data.size() - offset);
          upload.send(
              offset == 0 ? uploadName("", digest) : "",
              offset,
              data.substring(offset, offset + n),
              false);
          offset += n;
        }
      }
    }
    upload.send("", offset, ByteString.EMPTY, true).halfClose();

    assertThat(upload.await().getCommittedSize()).isEqualTo(data.size());
    assertThat(concat(read(readName("", digest), 0, 0))).isEqualTo(data);
  }

  /**
   * Reads that end inside a frame, while gRPC still holds the DATA frames before it, are the case
   * where the server's HTTP/2 decoder used to copy (see {@code ComposingCumulator}); the upload
   * must come through intact. A hand-written HTTP/2 client (literal HPACK headers) cuts each DATA
   * frame in two, inside its header or its payload, and sends an empty SETTINGS frame between the
   * pieces: once the server acknowledges it, the server has read up to the cut, so the next piece
   * arrives in a later read.
   */
  @Test
  void writeWhoseReadsEndInsideFramesArrivesIntact() throws IOException {
    ByteString data = pattern(5000, 13);
    Digest digest = Digest.of(data);
    byte[] request =
        WriteRequest.newBuilder()
            .setResourceName(uploadName("", digest))
            .setData(data)
            .setFinishWrite(true)
            .build()
            .toByteArray();

    record Frame(int type, int flags, int stream, byte[] payload) {
      byte[] bytes() {
        int length = payload.length;
        return ByteBuffer.allocate(9 + length)
            .put((byte) (length >>> 16))
            .putShort((short) length)
            .put((byte) type)
            .put((byte) flags)
            .putInt(stream)
            .put(payload)
            .array();
      }
    }
    ByteArrayOutputStream headers = new ByteArrayOutputStream();
    String[][] fields = {
      {":method", "POST"},
      {":scheme", "http"},
      {":path", "/google.bytestream.ByteStream/Write"},
      {":authority", "localhost"},
      {"content-type", "application/grpc"},
      {"te", "trailers"},
    };
    for (String[] field : fields) {
      headers.write(0); // literal without indexing, new name; every length here fits in 7 bits
      for (String part : field) {
        headers.write(part.length());
        headers.writeBytes(part.getBytes(StandardCharsets.US_ASCII));
      }
    }
    ByteBuffer message = ByteBuffer.allocate(5 + request.length);
    message.put((byte) 0).putInt(request.length).put(request); // uncompressed, length-prefixed
    List<byte[]> dataFrames = new ArrayList<>();
    for (int offset = 0; offset < message.capacity(); offset += 300) {
      int end = Math.min(offset + 300, message.capacity());
      byte[] payload = Arrays.copyOfRange(message.array(), offset, end);
      int endStream = end == message.capacity() ? 0x1 : 0;
      dataFrames.add(new Frame(0, endStream, 1, payload).bytes());
    }
    byte[] settings = new Frame(4, 0, 0, new byte[0]).bytes();

    try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), server.port())) {
      socket.setTcpNoDelay(true);
      socket.setSoTimeout((int) LoopbackServer.TIMEOUT.toMillis());
      OutputStream out = socket.getOutputStream();
      DataInputStream in = new DataInputStream(socket.getInputStream());
      byte[] rest = new byte[0];
      for (int i = 0; i < dataFrames.size(); i++) {
        byte[] frame = dataFrames.get(i);
        ByteArrayOutputStream piece = new ByteArrayOutputStream();
        if (i == 0) {
          piece.writeBytes("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
          piece.writeBytes(settings);
          piece.writeBytes(new Frame(1, 0x4, 1, headers.toByteArray()).bytes()); // END_HEADERS
        } else {
          piece.writeBytes(rest);
          piece.writeBytes(settings);
        }
        int cut = new int[] {1, 5, frame.length / 2, frame.length - 1}[i % 4];
        piece.write(frame, 0, cut);
        rest = Arrays.copyOfRange(frame, cut, frame.length);
        out.write(piece.toByteArray());
        out.flush();
        // Skip what else the server sends until it acknowledges this piece's SETTINGS.
        boolean acknowledged = false;
        while (!acknowledged) {
          int length = in.readUnsignedByte() << 16 | in.readUnsignedShort();
          int type = in.readUnsignedByte();
          int flags = in.readUnsignedByte();
          in.readInt();
          byte[] payload = in.readNBytes(length);
          assertThat(type)
              .as("GOAWAY: %s", new String(payload, StandardCharsets.UTF_8))
              .isNotEqualTo(7);
          acknowledged = type == 4 && (flags & 0x1) != 0;
        }
      }
      out.write(rest);
      out.flush();
      await()
          .alias("the upload is stored")
          .atMost(LoopbackServer.TIMEOUT)
          .until(() -> server.cas.contains(digest));
    }
    assertThat(concat(read(readName("", digest), 0, 0))).isEqualTo(data);
  }

  /** A Write message that is not a WriteRequest at all is refused; the server carries on. */
  @Test
  void garbageWriteMessageIsInvalidArgument() {
    MethodDescriptor<byte[], byte[]> rawWrite =
        ByteStreamGrpc.getWriteMethod().toBuilder(new RawBytes(), new RawBytes()).build();
    // Field 1 (resource_name) claiming 100 bytes with only three following.
    byte[] garbage = {0x0a, 100, 'a', 'b', 'c'};

    assertStatus(
        () ->
            ClientCalls.blockingUnaryCall(
                server.channel,
                rawWrite.toBuilder().setType(MethodDescriptor.MethodType.UNARY).build(),
                CallOptions.DEFAULT,
                garbage),
        Status.Code.INVALID_ARGUMENT,
        "not a valid protobuf message");
    server.assertStillServing();
  }

  /** Passes bytes through unparsed, so a test can send what no WriteRequest serializes to. */
  private static final class RawBytes implements MethodDescriptor.Marshaller<byte[]> {
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
  }

  @Test
  void writeWithTheWrongHashIsRefusedAndNeverReadable() {
    ByteString claimed = pattern(10_000, 1);
    ByteString sent = pattern(10_000, 2);
    Digest digest = Digest.of(claimed);

    assertStatus(
        () -> server.write(uploadName("", digest), sent, 4000),
        Status.Code.INVALID_ARGUMENT,
        digest.toString(),
        "hash");

    assertAbsent(digest);
    assertThat(server.sessions().size()).isZero();
    server.assertStillServing();
  }

  @Test
  void writeBeyondTheSizeIsRefused() {
    ByteString data = pattern(1000, 1);
    Digest digest = new Digest(Digest.of(data).hash(), 600);
    assertStatus(
        () -> server.write(uploadName("", digest), data, 400),
        Status.Code.INVALID_ARGUMENT,
        "800 bytes",
        "size is 600",
        "discarded");
    assertAbsent(digest);
    assertThat(server.sessions().size()).isZero();
    server.assertStillServing();
  }

  @Test
  void finishWriteWithBytesMissingIsRefused() {
    ByteString data = pattern(1000, 1);
    Digest digest = Digest.of(data);
    assertStatus(
        () -> server.write(uploadName("", digest), data.substring(0, 700), 300),
        Status.Code.INVALID_ARGUMENT,
        "700 of 1000 bytes",
        "finish_write");
    assertAbsent(digest);
    server.assertStillServing();
  }

  @Test
  void writeOfAPresentBlobCompletesAtOnce() {
    ByteString data = pattern(30_000, 9);
    Digest digest = server.cas.put(data);

    // Only the first chunk is sent and the stream stays open: the server answers anyway.
    TestServer.Upload upload =
        server.new Upload().send(uploadName("", digest), 0, data.substring(0, 1000), false);
    assertThat(upload.await().getCommittedSize()).isEqualTo(30_000);
    upload.requests.onCompleted();

    // The empty blob is always present.
    TestServer.Upload empty =
        server.new Upload().send(uploadName("", Digest.EMPTY), 0, ByteString.EMPTY, false);
    assertThat(empty.await().getCommittedSize()).isZero();
    empty.requests.onCompleted();
    server.assertStillServing();
  }

  @Test
  void malformedWriteNamesAreInvalidArgumentQuotingTheName() {
    ByteString data = bytes("data");
    Digest digest = Digest.of(data);
    String hash = digest.hash();
    String[] names = {
      "blobs/" + digest,
      "uploads/blobs/" + digest,
      "uploads//blobs/" + digest,
      "uploads/u1/" + digest,
      "uploads/u1/blobs/" + hash.toUpperCase() + "/4",
      "uploads/u1/blobs/" + hash + "/four",
      "uploads/u1/blobs/" + hash,
      "inst//uploads/u1/blobs/" + digest,
      "uploads/u1/files/" + digest,
    };
    for (String name : names) {
      assertStatus(
          () -> server.write(name, data, 10),
          Status.Code.INVALID_ARGUMENT,
          "'" + name + "'",
          "{instance}/uploads/{uuid}/blobs/{hash}/{size}");
      assertStatus(() -> query(name), Status.Code.INVALID_ARGUMENT, "'" + name + "'");
    }
    assertStatus(
        () -> server.write("uploads/u1/compressed-blobs/zstd/" + digest, data, 10),
        Status.Code.UNIMPLEMENTED,
        "no compression");
    assertStatus(
        () -> server.write("other/uploads/u1/blobs/" + digest, data, 10),
        Status.Code.INVALID_ARGUMENT,
        "unknown instance name \"other\"");
    assertAbsent(digest);
    assertThat(server.sessions().size()).isZero();
    server.assertStillServing();
  }

  @Test
  void writeNamesMayCarryMetadataAfterTheSize() {
    ByteString data = bytes("with metadata");
    Digest digest = Digest.of(data);
    String name = uploadName("ci/linux", digest) + "/some/metadata";
    assertThat(server.write(name, data, 5).getCommittedSize()).isEqualTo(data.size());
    assertThat(server.cas.contains(digest)).isTrue();
  }

  @Test
  void firstRequestWithoutResourceNameIsRefused() {
    TestServer.Upload upload = server.new Upload().send("", 0, bytes("x"), true);
    assertStatus(upload::await, Status.Code.INVALID_ARGUMENT, "must carry resource_name");
  }

  @Test
  void resourceNameMayNotChangeWithinAStream() {
    ByteString data = pattern(100, 1);
    Digest digest = Digest.of(data);
    String name = uploadName("", digest);
    TestServer.Upload upload =
        server.new Upload()
            .send(name, 0, data.substring(0, 50), false)
            .send(uploadName("", digest), 50, data.substring(50), true);
    assertStatus(upload::await, Status.Code.INVALID_ARGUMENT, "resource_name changed");
    assertAbsent(digest);
  }

  @Test
  void queryWriteStatusOfUnknownUploadIsNotFound() {
    Digest digest = Digest.of(bytes("never"));
    String name = uploadName("", digest);
    assertStatus(() -> query(name), Status.Code.NOT_FOUND, "'" + name + "'", "from offset 0");
  }

  @Test
  void unexpectedStoreFailureIsInternalAndTheServerRecovers() {
    server.blobs.failNextContains(new IllegalStateException("disk on fire"));
    ByteString data = bytes("x");
    assertStatus(
        () -> server.write(uploadName("", Digest.of(data)), data, 1),
        Status.Code.INTERNAL,
        "disk on fire");
    server.assertStillServing();
  }
}
