package build.hearth.grpc.reapi;

import build.bazel.remote.execution.v2.BatchReadBlobsRequest;
import build.bazel.remote.execution.v2.BatchReadBlobsResponse;
import build.bazel.remote.execution.v2.BatchUpdateBlobsRequest;
import build.bazel.remote.execution.v2.BatchUpdateBlobsResponse;
import build.bazel.remote.execution.v2.Compressor;
import build.bazel.remote.execution.v2.ContentAddressableStorageGrpc;
import build.bazel.remote.execution.v2.FindMissingBlobsRequest;
import build.bazel.remote.execution.v2.FindMissingBlobsResponse;
import build.bazel.remote.execution.v2.GetTreeRequest;
import build.bazel.remote.execution.v2.GetTreeResponse;
import build.hearth.api.ContentAddressableStorage;
import build.hearth.api.ContentAddressableStorage.TreePage;
import build.hearth.api.Digest;
import build.hearth.api.HearthException;
import build.hearth.grpc.common.Instances;
import build.hearth.grpc.common.PacedSender;
import build.hearth.grpc.common.Rpc;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The REAPI ContentAddressableStorage service. Batch calls answer one status per blob, so one bad
 * blob never fails its neighbours; only a request that breaks the advertised {@code
 * max_batch_total_size_bytes} is refused as a whole, as REAPI allows.
 */
public final class CasService
    extends ContentAddressableStorageGrpc.ContentAddressableStorageImplBase {
  private final Instances instances;
  private final long maxBatchSizeBytes;

  /**
   * Serves the CAS of {@code instances}.
   *
   * @param instances the server's instances
   * @param maxBatchSizeBytes the advertised {@code max_batch_total_size_bytes}; a batch request
   *     above it is refused
   */
  public CasService(Instances instances, long maxBatchSizeBytes) {
    this.instances = instances;
    this.maxBatchSizeBytes = maxBatchSizeBytes;
  }

  @Override
  public void findMissingBlobs(
      FindMissingBlobsRequest request, StreamObserver<FindMissingBlobsResponse> out) {
    Rpc.unary(out, () -> findMissing(request));
  }

  private FindMissingBlobsResponse findMissing(FindMissingBlobsRequest request) {
    ContentAddressableStorage cas = instances.require(request.getInstanceName()).cas();
    Requests.checkDigestFunction(request.getDigestFunction());
    int count = request.getBlobDigestsCount();
    List<Digest> digests = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      digests.add(Requests.digest(request.getBlobDigests(i), "blob_digests[" + i + "]"));
    }
    Set<Digest> missing = cas.findMissing(digests);
    FindMissingBlobsResponse.Builder response = FindMissingBlobsResponse.newBuilder();
    if (missing.isEmpty()) {
      return response.build();
    }
    // Answer in request order, each digest once, which keeps responses reproducible.
    Set<Digest> reported = new HashSet<>();
    for (Digest digest : digests) {
      if (missing.contains(digest) && reported.add(digest)) {
        response.addMissingBlobDigests(digest.toProto());
      }
    }
    return response.build();
  }

  @Override
  public void batchUpdateBlobs(
      BatchUpdateBlobsRequest request, StreamObserver<BatchUpdateBlobsResponse> out) {
    Rpc.unary(out, () -> batchUpdate(request));
  }

  private BatchUpdateBlobsResponse batchUpdate(BatchUpdateBlobsRequest request) {
    ContentAddressableStorage cas = instances.require(request.getInstanceName()).cas();
    Requests.checkDigestFunction(request.getDigestFunction());
    long total = 0;
    for (BatchUpdateBlobsRequest.Request entry : request.getRequestsList()) {
      total += entry.getData().size();
    }
    checkBatchSize(request.getRequestsCount(), total, "send larger blobs with ByteStream Write");
    BatchUpdateBlobsResponse.Builder response = BatchUpdateBlobsResponse.newBuilder();
    for (int i = 0; i < request.getRequestsCount(); i++) {
      BatchUpdateBlobsRequest.Request entry = request.getRequests(i);
      response.addResponses(
          BatchUpdateBlobsResponse.Response.newBuilder()
              .setDigest(entry.getDigest())
              .setStatus(updateOne(cas, entry, i)));
    }
    return response.build();
  }

  private static com.google.rpc.Status updateOne(
      ContentAddressableStorage cas, BatchUpdateBlobsRequest.Request entry, int index) {
    try {
      Digest digest = Requests.digest(entry.getDigest(), "requests[" + index + "].digest");
      if (entry.getCompressor() != Compressor.Value.IDENTITY) {
        throw HearthException.invalidArgument(
            "requests[%d]: compressor %s is not supported; this server advertises no"
                + " compressors, send the blob uncompressed (IDENTITY)",
            index, entry.getCompressor());
      }
      cas.put(digest, entry.getData());
      return Rpc.OK;
    } catch (RuntimeException e) {
      return Rpc.rpcStatus(e);
    }
  }

  @Override
  public void batchReadBlobs(
      BatchReadBlobsRequest request, StreamObserver<BatchReadBlobsResponse> out) {
    Rpc.unary(out, () -> batchRead(request));
  }

  private BatchReadBlobsResponse batchRead(BatchReadBlobsRequest request) {
    ContentAddressableStorage cas = instances.require(request.getInstanceName()).cas();
    Requests.checkDigestFunction(request.getDigestFunction());
    long total = 0;
    for (build.bazel.remote.execution.v2.Digest digest : request.getDigestsList()) {
      total += Math.max(0, digest.getSizeBytes());
    }
    checkBatchSize(request.getDigestsCount(), total, "read larger blobs with ByteStream Read");
    BatchReadBlobsResponse.Builder response = BatchReadBlobsResponse.newBuilder();
    for (int i = 0; i < request.getDigestsCount(); i++) {
      build.bazel.remote.execution.v2.Digest proto = request.getDigests(i);
      BatchReadBlobsResponse.Response.Builder entry =
          BatchReadBlobsResponse.Response.newBuilder()
              .setDigest(proto)
              .setCompressor(Compressor.Value.IDENTITY);
      try {
        entry.setData(cas.get(Requests.digest(proto, "digests[" + i + "]"))).setStatus(Rpc.OK);
      } catch (RuntimeException e) {
        entry.setStatus(Rpc.rpcStatus(e));
      }
      response.addResponses(entry);
    }
    return response.build();
  }

  private void checkBatchSize(int count, long total, String hint) {
    if (total > maxBatchSizeBytes) {
      throw HearthException.invalidArgument(
          "the batch of %d blobs totals %d bytes, over this server's limit of %d bytes"
              + " (max_batch_total_size_bytes in its capabilities); %s",
          count, total, maxBatchSizeBytes, hint);
    }
  }

  @Override
  public void getTree(GetTreeRequest request, StreamObserver<GetTreeResponse> out) {
    ContentAddressableStorage cas;
    Digest root;
    try {
      cas = instances.require(request.getInstanceName()).cas();
      Requests.checkDigestFunction(request.getDigestFunction());
      root = Requests.digest(request.getRootDigest(), "root_digest");
      if (request.getPageSize() < 0) {
        throw HearthException.invalidArgument("page_size %d is negative", request.getPageSize());
      }
    } catch (RuntimeException e) {
      out.onError(Rpc.toException(e));
      return;
    }
    PacedSender.start(out, new TreePages(cas, root, request.getPageSize(), request.getPageToken()));
  }

  /** The pages of one GetTree call, fetched one at a time as the client takes them. */
  private static final class TreePages implements PacedSender.Source<GetTreeResponse> {
    private final ContentAddressableStorage cas;
    private final Digest root;
    private final int pageSize;
    private String token;
    private boolean done;

    TreePages(ContentAddressableStorage cas, Digest root, int pageSize, String token) {
      this.cas = cas;
      this.root = root;
      this.pageSize = pageSize;
      this.token = token;
    }

    @Override
    public GetTreeResponse next() {
      if (done) {
        return null;
      }
      TreePage page = cas.getTree(root, pageSize, token);
      token = page.nextPageToken();
      done = token.isEmpty();
      return GetTreeResponse.newBuilder()
          .addAllDirectories(page.directories())
          .setNextPageToken(token)
          .build();
    }

    @Override
    public void close() {}
  }
}
