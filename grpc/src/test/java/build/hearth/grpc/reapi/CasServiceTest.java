package build.hearth.grpc.reapi;

import static build.hearth.grpc.TestServer.assertStatus;
import static build.hearth.grpc.TestServer.bytes;
import static build.hearth.grpc.TestServer.pattern;
import static org.assertj.core.api.Assertions.assertThat;

import build.bazel.remote.execution.v2.BatchReadBlobsRequest;
import build.bazel.remote.execution.v2.BatchReadBlobsResponse;
import build.bazel.remote.execution.v2.BatchUpdateBlobsRequest;
import build.bazel.remote.execution.v2.BatchUpdateBlobsResponse;
import build.bazel.remote.execution.v2.Compressor;
import build.bazel.remote.execution.v2.DigestFunction;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.DirectoryNode;
import build.bazel.remote.execution.v2.FileNode;
import build.bazel.remote.execution.v2.FindMissingBlobsRequest;
import build.bazel.remote.execution.v2.GetTreeRequest;
import build.bazel.remote.execution.v2.GetTreeResponse;
import build.hearth.api.Digest;
import build.hearth.api.StatusCode;
import build.hearth.grpc.TestServer;
import com.google.protobuf.ByteString;
import io.grpc.Status;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class CasServiceTest {
  private static final String GOOD_HASH = "a".repeat(64);

  private TestServer server;

  @BeforeEach
  void start() {
    server = TestServer.start();
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private static build.bazel.remote.execution.v2.Digest proto(String hash, long size) {
    return build.bazel.remote.execution.v2.Digest.newBuilder()
        .setHash(hash)
        .setSizeBytes(size)
        .build();
  }

  private static BatchUpdateBlobsRequest.Request entry(Digest digest, ByteString data) {
    return BatchUpdateBlobsRequest.Request.newBuilder()
        .setDigest(digest.toProto())
        .setData(data)
        .build();
  }

  private List<build.bazel.remote.execution.v2.Digest> findMissing(
      build.bazel.remote.execution.v2.Digest... digests) {
    return server
        .casStub()
        .findMissingBlobs(
            FindMissingBlobsRequest.newBuilder().addAllBlobDigests(List.of(digests)).build())
        .getMissingBlobDigestsList();
  }

  @Test
  void findMissingReportsAbsentBlobsOnceInRequestOrder() {
    Digest present = server.cas.put(bytes("present"));
    Digest absent1 = Digest.of(bytes("absent 1"));
    Digest absent2 = Digest.of(bytes("absent 2"));

    assertThat(
            findMissing(
                absent2.toProto(),
                present.toProto(),
                Digest.EMPTY.toProto(),
                absent1.toProto(),
                absent2.toProto()))
        .containsExactly(absent2.toProto(), absent1.toProto());
  }

  @Test
  void findMissingHandlesTenThousandDigests() {
    FindMissingBlobsRequest.Builder request = FindMissingBlobsRequest.newBuilder();
    List<build.bazel.remote.execution.v2.Digest> expectedMissing = new ArrayList<>();
    for (int i = 0; i < 10_000; i++) {
      ByteString data = bytes("blob " + i);
      Digest digest = i % 2 == 0 ? server.cas.put(data) : Digest.of(data);
      request.addBlobDigests(digest.toProto());
      if (i % 2 != 0) {
        expectedMissing.add(digest.toProto());
      }
    }

    assertThat(server.casStub().findMissingBlobs(request.build()).getMissingBlobDigestsList())
        .containsExactlyElementsOf(expectedMissing);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "abc",
        "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz",
        ""
      })
  void findMissingNamesTheMalformedDigest(String badHash) {
    assertStatus(
        () -> findMissing(proto(GOOD_HASH, 1), proto(badHash, 3)),
        Status.Code.INVALID_ARGUMENT,
        "blob_digests[1]",
        "'" + badHash + "'",
        "64 lowercase hex characters");
    server.assertStillServing();
  }

  @Test
  void findMissingRefusesANegativeSize() {
    assertStatus(
        () -> findMissing(proto(GOOD_HASH, -1)),
        Status.Code.INVALID_ARGUMENT,
        "blob_digests[0]",
        "negative size");
  }

  @Test
  void findMissingRefusesAnotherDigestFunction() {
    assertStatus(
        () ->
            server
                .casStub()
                .findMissingBlobs(
                    FindMissingBlobsRequest.newBuilder()
                        .setDigestFunction(DigestFunction.Value.BLAKE3)
                        .build()),
        Status.Code.INVALID_ARGUMENT,
        "BLAKE3",
        "SHA256 only");
  }

  @Test
  void batchRoundTripWithPerBlobStatus() {
    ByteString a = bytes("alpha");
    ByteString b = pattern(10_000, 1);
    Digest missing = Digest.of(bytes("never uploaded"));

    BatchUpdateBlobsResponse update =
        server
            .casStub()
            .batchUpdateBlobs(
                BatchUpdateBlobsRequest.newBuilder()
                    .addRequests(entry(Digest.of(a), a))
                    .addRequests(entry(Digest.of(b), b))
                    .build());
    assertThat(update.getResponsesList())
        .extracting(r -> r.getStatus().getCode())
        .containsExactly(0, 0);
    assertThat(update.getResponses(1).getDigest()).isEqualTo(Digest.of(b).toProto());

    BatchReadBlobsResponse read =
        server
            .casStub()
            .batchReadBlobs(
                BatchReadBlobsRequest.newBuilder()
                    .addDigests(Digest.of(b).toProto())
                    .addDigests(missing.toProto())
                    .addDigests(Digest.of(a).toProto())
                    .addDigests(Digest.EMPTY.toProto())
                    .build());
    assertThat(read.getResponsesCount()).isEqualTo(4);
    assertThat(read.getResponses(0).getData()).isEqualTo(b);
    assertThat(read.getResponses(1).getStatus().getCode()).isEqualTo(StatusCode.NOT_FOUND.value());
    assertThat(read.getResponses(1).getStatus().getMessage()).contains(missing.hash());
    assertThat(read.getResponses(2).getData()).isEqualTo(a);
    assertThat(read.getResponses(2).getCompressor()).isEqualTo(Compressor.Value.IDENTITY);
    assertThat(read.getResponses(3).getStatus().getCode()).isEqualTo(0);
    assertThat(read.getResponses(3).getData()).isEmpty();
  }

  @Test
  void batchUpdateRefusesOnlyTheBadBlobs() {
    ByteString good = bytes("good");
    ByteString claimed = bytes("what the digest says");
    ByteString sent = bytes("what was really sent");
    Digest wrongHash = Digest.of(claimed);
    ByteString shortData = bytes("short");
    Digest wrongSize = new Digest(Digest.of(shortData).hash(), 99);

    BatchUpdateBlobsResponse response =
        server
            .casStub()
            .batchUpdateBlobs(
                BatchUpdateBlobsRequest.newBuilder()
                    .addRequests(entry(wrongHash, sent.substring(0, claimed.size())))
                    .addRequests(entry(Digest.of(good), good))
                    .addRequests(entry(wrongSize, shortData))
                    .addRequests(
                        BatchUpdateBlobsRequest.Request.newBuilder()
                            .setDigest(proto(GOOD_HASH.toUpperCase(), 4))
                            .setData(bytes("four")))
                    .addRequests(
                        BatchUpdateBlobsRequest.Request.newBuilder()
                            .setDigest(Digest.of(good).toProto())
                            .setData(good)
                            .setCompressor(Compressor.Value.ZSTD))
                    .build());

    var statuses = response.getResponsesList();
    assertThat(statuses).hasSize(5);
    assertThat(statuses.get(0).getStatus().getCode())
        .isEqualTo(StatusCode.INVALID_ARGUMENT.value());
    assertThat(statuses.get(0).getStatus().getMessage()).contains(wrongHash.hash(), "hash");
    assertThat(statuses.get(1).getStatus().getCode()).isEqualTo(0);
    assertThat(statuses.get(2).getStatus().getCode())
        .isEqualTo(StatusCode.INVALID_ARGUMENT.value());
    assertThat(statuses.get(2).getStatus().getMessage()).contains("5 bytes", "99");
    assertThat(statuses.get(3).getStatus().getCode())
        .isEqualTo(StatusCode.INVALID_ARGUMENT.value());
    assertThat(statuses.get(3).getStatus().getMessage())
        .contains("requests[3].digest", "64 lowercase hex characters");
    assertThat(statuses.get(4).getStatus().getCode())
        .isEqualTo(StatusCode.INVALID_ARGUMENT.value());
    assertThat(statuses.get(4).getStatus().getMessage()).contains("ZSTD", "IDENTITY");

    // Nothing of the refused blobs is readable; the good one is.
    assertThat(findMissing(wrongHash.toProto(), wrongSize.toProto(), Digest.of(good).toProto()))
        .containsExactly(wrongHash.toProto(), wrongSize.toProto());
    BatchReadBlobsResponse read =
        server
            .casStub()
            .batchReadBlobs(
                BatchReadBlobsRequest.newBuilder().addDigests(wrongHash.toProto()).build());
    assertThat(read.getResponses(0).getStatus().getCode()).isEqualTo(StatusCode.NOT_FOUND.value());
    server.assertStillServing();
  }

  @Test
  void batchUpdateOverTheLimitIsRefusedWhole() {
    ByteString half = pattern((int) TestServer.MAX_BATCH / 2, 1);
    ByteString rest = pattern((int) TestServer.MAX_BATCH / 2 + 1, 2);

    assertStatus(
        () ->
            server
                .casStub()
                .batchUpdateBlobs(
                    BatchUpdateBlobsRequest.newBuilder()
                        .addRequests(entry(Digest.of(half), half))
                        .addRequests(entry(Digest.of(rest), rest))
                        .build()),
        Status.Code.INVALID_ARGUMENT,
        "2 blobs",
        (TestServer.MAX_BATCH + 1) + " bytes",
        "limit of " + TestServer.MAX_BATCH + " bytes",
        "max_batch_total_size_bytes",
        "ByteStream");

    assertThat(findMissing(Digest.of(half).toProto(), Digest.of(rest).toProto())).hasSize(2);
    server.assertStillServing();
  }

  @Test
  void batchReadOverTheLimitIsRefusedWhole() {
    Digest big = new Digest(GOOD_HASH, TestServer.MAX_BATCH + 1);
    assertStatus(
        () ->
            server
                .casStub()
                .batchReadBlobs(
                    BatchReadBlobsRequest.newBuilder().addDigests(big.toProto()).build()),
        Status.Code.INVALID_ARGUMENT,
        "limit of " + TestServer.MAX_BATCH + " bytes",
        "ByteStream Read");
  }

  @Test
  void batchReadReportsAMalformedDigestInItsEntry() {
    Digest present = server.cas.put(bytes("present"));
    BatchReadBlobsResponse read =
        server
            .casStub()
            .batchReadBlobs(
                BatchReadBlobsRequest.newBuilder()
                    .addDigests(proto("xyz", 3))
                    .addDigests(present.toProto())
                    .build());
    assertThat(read.getResponses(0).getStatus().getCode())
        .isEqualTo(StatusCode.INVALID_ARGUMENT.value());
    assertThat(read.getResponses(0).getStatus().getMessage()).contains("digests[0]", "'xyz'");
    assertThat(read.getResponses(1).getData()).isEqualTo(bytes("present"));
  }

  @Test
  void unknownInstanceIsInvalidArgument() {
    assertStatus(
        () ->
            server
                .casStub()
                .findMissingBlobs(
                    FindMissingBlobsRequest.newBuilder().setInstanceName("ci").build()),
        Status.Code.INVALID_ARGUMENT,
        "unknown instance name \"ci\"",
        "\"ci/linux\"");
    assertStatus(
        () ->
            server
                .casStub()
                .batchUpdateBlobs(
                    BatchUpdateBlobsRequest.newBuilder().setInstanceName("nope").build()),
        Status.Code.INVALID_ARGUMENT,
        "\"nope\"");
    server.assertStillServing();
  }

  @Test
  void instanceNamesWithSlashesRouteToTheirStore() {
    ByteString data = bytes("for ci");
    BatchUpdateBlobsResponse response =
        server
            .casStub()
            .batchUpdateBlobs(
                BatchUpdateBlobsRequest.newBuilder()
                    .setInstanceName("ci/linux")
                    .addRequests(entry(Digest.of(data), data))
                    .build());
    assertThat(response.getResponses(0).getStatus().getCode()).isEqualTo(0);
    assertThat(server.cas.contains(Digest.of(data))).isTrue();
  }

  /** root -> {a, b}; a -> {c}; b -> {d}; c and d hold one file each. */
  private List<Directory> threeLevelTree() {
    Directory c = fileDirectory("c.txt", bytes("c"));
    Directory d = fileDirectory("d.txt", bytes("d"));
    Directory a = dirDirectory("c", c);
    Directory b = dirDirectory("d", d);
    Directory root =
        Directory.newBuilder().addDirectories(node("a", a)).addDirectories(node("b", b)).build();
    List<Directory> breadthFirst = List.of(root, a, b, c, d);
    for (Directory directory : breadthFirst) {
      server.cas.put(directory.toByteString());
    }
    return breadthFirst;
  }

  private Directory fileDirectory(String name, ByteString content) {
    Digest digest = server.cas.put(content);
    return Directory.newBuilder()
        .addFiles(FileNode.newBuilder().setName(name).setDigest(digest.toProto()))
        .build();
  }

  private static Directory dirDirectory(String name, Directory child) {
    return Directory.newBuilder().addDirectories(node(name, child)).build();
  }

  private static DirectoryNode node(String name, Directory directory) {
    return DirectoryNode.newBuilder()
        .setName(name)
        .setDigest(Digest.of(directory.toByteString()).toProto())
        .build();
  }

  @Test
  void getTreeStreamsPagesOfTheRequestedSize() {
    List<Directory> tree = threeLevelTree();
    Digest root = Digest.of(tree.get(0).toByteString());

    List<GetTreeResponse> pages = new ArrayList<>();
    server
        .casStub()
        .getTree(GetTreeRequest.newBuilder().setRootDigest(root.toProto()).setPageSize(2).build())
        .forEachRemaining(pages::add);

    assertThat(pages).extracting(GetTreeResponse::getDirectoriesCount).containsExactly(2, 2, 1);
    assertThat(pages.get(2).getNextPageToken()).isEmpty();
    List<Directory> all = new ArrayList<>();
    pages.forEach(p -> all.addAll(p.getDirectoriesList()));
    assertThat(all).containsExactlyElementsOf(tree);

    // A token from the first page continues from there.
    List<Directory> rest = new ArrayList<>();
    server
        .casStub()
        .getTree(
            GetTreeRequest.newBuilder()
                .setRootDigest(root.toProto())
                .setPageSize(2)
                .setPageToken(pages.get(0).getNextPageToken())
                .build())
        .forEachRemaining(p -> rest.addAll(p.getDirectoriesList()));
    assertThat(rest).containsExactlyElementsOf(tree.subList(2, 5));
  }

  @Test
  void getTreeRefusesATokenItDidNotIssue() {
    List<Directory> tree = threeLevelTree();
    Digest root = Digest.of(tree.get(0).toByteString());
    // "1" was the old stateless token (a count); tokens now name a cursor and the root.
    for (String token :
        List.of("1", "v1:garbage", "v1:AAAAAAAAAAAAAAAAAAAAAA:1:0000000000000000")) {
      assertStatus(
          () ->
              server
                  .casStub()
                  .getTree(
                      GetTreeRequest.newBuilder()
                          .setRootDigest(root.toProto())
                          .setPageSize(2)
                          .setPageToken(token)
                          .build())
                  .forEachRemaining(r -> {}),
          Status.Code.INVALID_ARGUMENT,
          "page_token");
    }
    server.assertStillServing();
  }

  @Test
  void getTreeOfAMissingRootIsNotFound() {
    Digest root = Digest.of(bytes("not a directory anyone uploaded"));
    assertStatus(
        () ->
            server
                .casStub()
                .getTree(GetTreeRequest.newBuilder().setRootDigest(root.toProto()).build())
                .forEachRemaining(r -> {}),
        Status.Code.NOT_FOUND,
        root.hash());
    assertStatus(
        () ->
            server
                .casStub()
                .getTree(GetTreeRequest.newBuilder().setRootDigest(proto("ROOT", 1)).build())
                .forEachRemaining(r -> {}),
        Status.Code.INVALID_ARGUMENT,
        "root_digest");
    server.assertStillServing();
  }
}
