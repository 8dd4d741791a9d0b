package build.hearth.agent;

import static build.hearth.grpc.TestServer.bytes;
import static build.hearth.grpc.TestServer.pattern;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.DirectoryNode;
import build.bazel.remote.execution.v2.FileNode;
import build.hearth.api.BlobUpload;
import build.hearth.api.ContentAddressableStorage.BlobStatus;
import build.hearth.api.ContentAddressableStorage.TreePage;
import build.hearth.api.Digest;
import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import build.hearth.grpc.TestServer;
import com.google.protobuf.ByteString;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The remote CAS client against a real server on a loopback socket, whose batch limit (64 KiB) is
 * small so that both the batch and the streaming paths are taken.
 */
class RemoteCasTest {
  private static final int MIB = 1 << 20;

  private TestServer server;
  private RemoteCas remote;

  @BeforeEach
  void start() {
    server = TestServer.start();
    remote = new RemoteCas(server.channel, "", Duration.ofSeconds(20));
  }

  @AfterEach
  void stop() {
    server.close();
  }

  @Test
  void batchLimitComesFromTheServersCapabilities() {
    assertThat(remote.batchBudget()).isEqualTo(TestServer.MAX_BATCH);
  }

  @Test
  void smallBlobsRoundTripThroughBatches() throws IOException {
    ByteString data = bytes("a small blob");
    Digest digest = remote.put(data);

    assertThat(digest).isEqualTo(Digest.of(data));
    assertThat(server.cas.get(digest)).isEqualTo(data);
    assertThat(remote.contains(digest)).isTrue();
    assertThat(remote.get(digest)).isEqualTo(data);
    try (InputStream in = remote.read(digest, 2, 5)) {
      assertThat(in.readAllBytes()).isEqualTo(data.substring(2, 7).toByteArray());
    }
    assertThat(remote.get(Digest.EMPTY)).isEqualTo(ByteString.EMPTY);
    assertThat(remote.contains(Digest.EMPTY)).isTrue();
  }

  @Test
  void multiMebibyteBlobsRoundTripThroughByteStream() throws IOException {
    ByteString data = pattern(3 * MIB + 17, 1);
    Digest digest = Digest.of(data);

    remote.put(digest, data);

    assertThat(server.cas.contains(digest)).isTrue();
    assertThat(remote.get(digest)).isEqualTo(data);
    try (InputStream in = remote.read(digest, 0, 0)) {
      assertThat(Digest.of(in.readAllBytes())).isEqualTo(digest);
    }
    try (InputStream in = remote.read(digest, MIB, 100_000)) {
      assertThat(in.readAllBytes()).isEqualTo(data.substring(MIB, MIB + 100_000).toByteArray());
    }
  }

  @Test
  void streamingUploadSendsPiecesAsTheyAreWritten() throws IOException {
    ByteString data = pattern(2 * MIB + 5, 2);
    Digest digest = Digest.of(data);

    try (BlobUpload upload = remote.startUpload(digest)) {
      for (int offset = 0; offset < data.size(); offset += 7_777) {
        byte[] piece = data.substring(offset, Math.min(data.size(), offset + 7_777)).toByteArray();
        upload.write(piece, 0, piece.length);
      }
      assertThat(upload.committedSize()).isEqualTo(data.size());
      upload.commit();
      assertThat(upload.isComplete()).isTrue();
    }

    try (InputStream in = server.cas.read(digest, 0, 0)) {
      assertThat(Digest.of(in.readAllBytes())).isEqualTo(digest);
    }
  }

  @Test
  void uploadingABlobTheServerHoldsSucceeds() {
    ByteString data = pattern(MIB, 3);
    Digest digest = server.cas.put(data);

    try (BlobUpload upload = remote.startUpload(digest)) {
      upload.write(data);
      upload.commit();
      assertThat(upload.isComplete()).isTrue();
    }
  }

  @Test
  void bytesThatDoNotMatchTheDigestAreRefusedBeforeUpload() {
    ByteString good = pattern(200_000, 4);
    ByteString bad = pattern(200_000, 5);
    Digest digest = Digest.of(good);

    HearthException put =
        catchThrowableOfType(HearthException.class, () -> remote.put(digest, bad));
    assertThat(put.code()).isEqualTo(StatusCode.INVALID_ARGUMENT);

    HearthException streamed;
    try (BlobUpload upload = remote.startUpload(digest)) {
      upload.write(bad);
      streamed = catchThrowableOfType(HearthException.class, upload::commit);
    }
    assertThat(streamed.code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
    assertThat(streamed.getMessage()).contains(digest.toString(), "does not match");

    HearthException tooLong;
    try (BlobUpload upload = remote.startUpload(Digest.of(bytes("short")))) {
      tooLong = catchThrowableOfType(HearthException.class, () -> upload.write(good));
    }
    assertThat(tooLong.code()).isEqualTo(StatusCode.INVALID_ARGUMENT);

    assertThat(server.cas.contains(digest)).isFalse();
  }

  @Test
  void putAllReportsEachBlobInOrder() {
    ByteString small = bytes("one");
    ByteString large = pattern(300_000, 6);
    ByteString wrong = bytes("not what the digest says");
    Map<Digest, ByteString> blobs = new LinkedHashMap<>();
    blobs.put(Digest.of(small), small);
    blobs.put(Digest.of(bytes("something else")), wrong);
    blobs.put(Digest.of(large), large);
    for (int i = 0; i < 40; i++) {
      ByteString data = pattern(4_000, 100 + i); // 160 KB: more than one batch of 64 KiB
      blobs.put(Digest.of(data), data);
    }

    List<BlobStatus> statuses = remote.putAll(blobs);

    assertThat(statuses).hasSize(blobs.size());
    assertThat(statuses.get(0).ok()).isTrue();
    assertThat(statuses.get(1).code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
    assertThat(statuses.get(2).ok()).isTrue();
    List<Digest> order = new ArrayList<>(blobs.keySet());
    for (int i = 0; i < statuses.size(); i++) {
      assertThat(statuses.get(i).digest()).isEqualTo(order.get(i));
      if (i != 1) {
        assertThat(server.cas.contains(order.get(i))).as("blob %d", i).isTrue();
      }
    }
  }

  @Test
  void findMissingAsksInChunks() {
    Digest present = server.cas.put(bytes("present"));
    List<Digest> digests = new ArrayList<>();
    digests.add(present);
    digests.add(Digest.EMPTY);
    int absent = 2 * RemoteCas.FIND_MISSING_CHUNK + 500;
    for (int i = 0; i < absent; i++) {
      digests.add(new Digest(String.format("%064x", i + 1), i));
    }
    digests.add(digests.get(5)); // a duplicate

    Set<Digest> missing = remote.findMissing(digests);

    assertThat(missing).hasSize(absent).doesNotContain(present, Digest.EMPTY);
  }

  @Test
  void serverErrorsKeepTheirCodeAndMessage() {
    Digest absent = Digest.of(bytes("never stored"));
    HearthException read =
        catchThrowableOfType(HearthException.class, () -> remote.read(absent, 0, 0));
    assertThat(read.code()).isEqualTo(StatusCode.NOT_FOUND);
    assertThat(read.getMessage()).contains(absent.hash());

    HearthException get = catchThrowableOfType(HearthException.class, () -> remote.get(absent));
    assertThat(get.code()).isEqualTo(StatusCode.NOT_FOUND);

    RemoteCas unknown = new RemoteCas(server.channel, "no-such", Duration.ofSeconds(20));
    HearthException instance =
        catchThrowableOfType(HearthException.class, () -> unknown.contains(absent));
    assertThat(instance.code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
    assertThat(instance.getMessage()).contains("unknown instance name \"no-such\"");

    HearthException range =
        catchThrowableOfType(HearthException.class, () -> remote.read(absent, 100, 0));
    assertThat(range.code()).isEqualTo(StatusCode.OUT_OF_RANGE);
  }

  @Test
  void getTreeReturnsPages() {
    ByteString file = bytes("leaf");
    Digest fileDigest = server.cas.put(file);
    Directory leaf =
        Directory.newBuilder()
            .addFiles(FileNode.newBuilder().setName("f").setDigest(fileDigest.toProto()))
            .build();
    Digest leafDigest = server.cas.put(leaf.toByteString());
    Directory root =
        Directory.newBuilder()
            .addDirectories(DirectoryNode.newBuilder().setName("a").setDigest(leafDigest.toProto()))
            .addDirectories(DirectoryNode.newBuilder().setName("b").setDigest(leafDigest.toProto()))
            .build();
    Digest rootDigest = server.cas.put(root.toByteString());

    TreePage all = remote.getTree(rootDigest, 0, "");
    assertThat(all.directories()).contains(root, leaf);

    List<Directory> paged = new ArrayList<>();
    String token = "";
    int pages = 0;
    do {
      TreePage page = remote.getTree(rootDigest, 1, token);
      paged.addAll(page.directories());
      token = page.nextPageToken();
      pages++;
    } while (!token.isEmpty() && pages < 10);
    assertThat(paged).containsExactlyElementsOf(all.directories());
    assertThat(pages).isGreaterThan(1);
  }

  @Test
  void closingAReadEarlyCancelsIt() throws IOException {
    ByteString data = pattern(4 * MIB, 7);
    Digest digest = server.cas.put(data);

    try (InputStream in = remote.read(digest, 0, 0)) {
      assertThat(in.readNBytes(10)).isEqualTo(data.substring(0, 10).toByteArray());
    }

    server.assertStillServing();
  }
}
