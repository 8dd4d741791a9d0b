package build.hearth.core.cas;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.DirectoryNode;
import build.bazel.remote.execution.v2.FileNode;
import build.hearth.api.BlobUpload;
import build.hearth.api.ContentAddressableStorage;
import build.hearth.api.ContentAddressableStorage.BlobStatus;
import build.hearth.api.ContentAddressableStorage.TreePage;
import build.hearth.api.Digest;
import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import build.hearth.core.Hearth;
import com.google.protobuf.ByteString;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class VerifyingContentAddressableStorageTest {
  private final Hearth hearth = Hearth.newBuilder().build();
  private final ContentAddressableStorage cas = hearth.cas();

  @AfterEach
  void close() {
    hearth.close();
  }

  private static ByteString bytes(String text) {
    return ByteString.copyFrom(text, UTF_8);
  }

  @Test
  void putThenReadRoundTrips() throws Exception {
    Digest digest = cas.put(bytes("hello world"));

    assertThat(cas.contains(digest)).isTrue();
    assertThat(cas.get(digest).toStringUtf8()).isEqualTo("hello world");
    try (InputStream in = cas.read(digest, 6, 3)) {
      assertThat(new String(in.readAllBytes(), UTF_8)).isEqualTo("wor");
    }
    try (InputStream in = cas.read(digest, 11, 0)) {
      assertThat(in.readAllBytes()).isEmpty();
    }
  }

  @Test
  void emptyBlobIsAlwaysPresent() throws Exception {
    assertThat(cas.contains(Digest.EMPTY)).isTrue();
    assertThat(cas.findMissing(List.of(Digest.EMPTY))).isEmpty();
    assertThat(cas.get(Digest.EMPTY).isEmpty()).isTrue();
    try (BlobUpload upload = cas.startUpload(Digest.EMPTY)) {
      upload.commit();
      assertThat(upload.isComplete()).isTrue();
    }
  }

  @Test
  void findMissingReportsOnlyAbsentBlobs() {
    Digest present = cas.put(bytes("present"));
    Digest absent = Digest.of("absent".getBytes(UTF_8));

    assertThat(cas.findMissing(List.of(present, absent, absent))).containsExactly(absent);
  }

  @Test
  void wrongHashIsRefusedAndNothingIsStored() {
    Digest claimed = Digest.of("expected".getBytes(UTF_8));
    ByteString other = bytes("imposter"); // same length, other bytes

    assertThatThrownBy(() -> cas.put(claimed, other))
        .isInstanceOfSatisfying(
            HearthException.class, e -> assertThat(e.code()).isEqualTo(StatusCode.INVALID_ARGUMENT))
        .hasMessageContaining("hash to");
    assertThat(cas.contains(claimed)).isFalse();
  }

  @Test
  void wrongSizeIsRefused() {
    Digest digest = Digest.of("abc".getBytes(UTF_8));
    try (BlobUpload upload = cas.startUpload(digest)) {
      upload.write(bytes("ab"));
      assertThatThrownBy(upload::commit)
          .isInstanceOf(HearthException.class)
          .hasMessageContaining("received 2 bytes but the digest says 3");
    }
    assertThat(cas.contains(digest)).isFalse();
  }

  @Test
  void writingPastTheSizeIsRefusedAtOnce() {
    Digest digest = Digest.of("abc".getBytes(UTF_8));
    try (BlobUpload upload = cas.startUpload(digest)) {
      assertThatThrownBy(() -> upload.write(bytes("abcd")))
          .isInstanceOfSatisfying(
              HearthException.class,
              e -> assertThat(e.code()).isEqualTo(StatusCode.INVALID_ARGUMENT));
    }
    assertThat(cas.contains(digest)).isFalse();
  }

  @Test
  void uploadIsInvisibleUntilCommitted() {
    ByteString data = bytes("streamed in pieces");
    Digest digest = Digest.of(data);
    try (BlobUpload upload = cas.startUpload(digest)) {
      upload.write(data.substring(0, 5));
      assertThat(upload.committedSize()).isEqualTo(5);
      assertThat(cas.contains(digest)).isFalse();
      upload.write(data.substring(5));
      upload.commit();
    }
    assertThat(cas.get(digest)).isEqualTo(data);
  }

  @Test
  void abandonedUploadLeavesNothing() {
    Digest digest = Digest.of("never finished".getBytes(UTF_8));
    try (BlobUpload upload = cas.startUpload(digest)) {
      upload.write(bytes("never"));
    }
    assertThat(cas.contains(digest)).isFalse();
  }

  @Test
  void readErrorsCarryCodes() {
    Digest absent = Digest.of("absent".getBytes(UTF_8));
    assertThatThrownBy(() -> cas.read(absent, 0, 0))
        .isInstanceOfSatisfying(
            HearthException.class, e -> assertThat(e.code()).isEqualTo(StatusCode.NOT_FOUND));

    Digest present = cas.put(bytes("12345"));
    assertThatThrownBy(() -> cas.read(present, 6, 0))
        .isInstanceOfSatisfying(
            HearthException.class, e -> assertThat(e.code()).isEqualTo(StatusCode.OUT_OF_RANGE));
    assertThatThrownBy(() -> cas.read(present, -1, 0))
        .isInstanceOfSatisfying(
            HearthException.class, e -> assertThat(e.code()).isEqualTo(StatusCode.OUT_OF_RANGE));
  }

  @Test
  void putAllReportsEachBlob() {
    Digest good = Digest.of("good".getBytes(UTF_8));
    Digest bad = Digest.of("bad!".getBytes(UTF_8));
    Map<Digest, ByteString> batch = new LinkedHashMap<>();
    batch.put(good, bytes("good"));
    batch.put(bad, bytes("evil"));

    List<BlobStatus> statuses = cas.putAll(batch);

    assertThat(statuses).extracting(BlobStatus::digest).containsExactly(good, bad);
    assertThat(statuses.get(0).ok()).isTrue();
    assertThat(statuses.get(1).code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
    assertThat(cas.contains(good)).isTrue();
    assertThat(cas.contains(bad)).isFalse();
  }

  @Test
  void getTreePagesBreadthFirstAndSkipsRepeats() {
    Digest file = cas.put(bytes("content"));
    Directory leaf =
        Directory.newBuilder()
            .addFiles(FileNode.newBuilder().setName("f").setDigest(file.toProto()))
            .build();
    Digest leafDigest = cas.put(leaf.toByteString());
    Directory middle =
        Directory.newBuilder()
            .addDirectories(DirectoryNode.newBuilder().setName("a").setDigest(leafDigest.toProto()))
            .addDirectories(DirectoryNode.newBuilder().setName("b").setDigest(leafDigest.toProto()))
            .build();
    Digest middleDigest = cas.put(middle.toByteString());
    Directory sibling = Directory.newBuilder().addFiles(FileNode.newBuilder().setName("s")).build();
    Digest siblingDigest = cas.put(sibling.toByteString());
    Directory root =
        Directory.newBuilder()
            .addDirectories(
                DirectoryNode.newBuilder().setName("m").setDigest(middleDigest.toProto()))
            .addDirectories(
                DirectoryNode.newBuilder().setName("s").setDigest(siblingDigest.toProto()))
            .build();
    Digest rootDigest = cas.put(root.toByteString());

    List<Directory> all = new ArrayList<>();
    List<String> tokens = new ArrayList<>();
    String token = "";
    do {
      TreePage page = cas.getTree(rootDigest, 2, token);
      assertThat(page.directories().size()).isLessThanOrEqualTo(2);
      all.addAll(page.directories());
      token = page.nextPageToken();
      tokens.add(token);
    } while (!token.isEmpty());

    assertThat(all).containsExactly(root, middle, sibling, leaf);
    assertThat(tokens).hasSize(2);
    assertThat(tokens.get(0)).startsWith("v1:").contains(":2:");
    assertThat(tokens.get(1)).isEmpty();
  }

  @Test
  void getTreeOfAbsentRootIsNotFoundAndBadTokensAreRefused() {
    Digest absent = Digest.of("no such directory".getBytes(UTF_8));
    assertThatThrownBy(() -> cas.getTree(absent, 0, ""))
        .isInstanceOfSatisfying(
            HearthException.class, e -> assertThat(e.code()).isEqualTo(StatusCode.NOT_FOUND));

    Digest root = cas.put(Directory.getDefaultInstance().toByteString());
    assertThatThrownBy(() -> cas.getTree(root, 0, "not-a-token"))
        .isInstanceOfSatisfying(
            HearthException.class,
            e -> assertThat(e.code()).isEqualTo(StatusCode.INVALID_ARGUMENT));
  }

  @Test
  void uploadsOfComposedAndBufferBackedByteStringsAreVerified() {
    byte[] bytes = new byte[700_000];
    new java.util.Random(7).nextBytes(bytes);
    Digest digest = Digest.of(bytes);
    // A rope of several arrays, and a string over a direct buffer: both ways a ByteString
    // hands its pieces to the upload.
    ByteString rope =
        ByteString.copyFrom(bytes, 0, 100_000)
            .concat(ByteString.copyFrom(bytes, 100_000, 300_000))
            .concat(ByteString.copyFrom(bytes, 400_000, 300_000));
    java.nio.ByteBuffer direct = java.nio.ByteBuffer.allocateDirect(bytes.length);
    direct.put(bytes).flip();
    ByteString overBuffer = com.google.protobuf.UnsafeByteOperations.unsafeWrap(direct);

    for (ByteString data : List.of(rope, overBuffer)) {
      Hearth fresh = Hearth.newBuilder().build();
      try (fresh;
          BlobUpload upload = fresh.cas().startUpload(digest)) {
        upload.write(data.substring(0, 123_457));
        upload.write(data.substring(123_457));
        upload.commit();
        assertThat(fresh.cas().get(digest)).isEqualTo(ByteString.copyFrom(bytes));
      }
    }

    bytes[699_999] ^= 1;
    ByteString corrupt =
        ByteString.copyFrom(bytes, 0, 350_000).concat(ByteString.copyFrom(bytes, 350_000, 350_000));
    try (BlobUpload upload = cas.startUpload(digest)) {
      upload.write(corrupt);
      assertThatThrownBy(upload::commit)
          .isInstanceOf(HearthException.class)
          .hasMessageContaining("hash to");
    }
    assertThat(cas.contains(digest)).isFalse();
  }
}
