package build.hearth.agent;

import build.bazel.remote.execution.v2.BatchReadBlobsRequest;
import build.bazel.remote.execution.v2.BatchReadBlobsResponse;
import build.bazel.remote.execution.v2.BatchUpdateBlobsRequest;
import build.bazel.remote.execution.v2.BatchUpdateBlobsResponse;
import build.bazel.remote.execution.v2.CapabilitiesGrpc;
import build.bazel.remote.execution.v2.ContentAddressableStorageGrpc;
import build.bazel.remote.execution.v2.DigestFunction;
import build.bazel.remote.execution.v2.FindMissingBlobsRequest;
import build.bazel.remote.execution.v2.FindMissingBlobsResponse;
import build.bazel.remote.execution.v2.GetCapabilitiesRequest;
import build.bazel.remote.execution.v2.GetTreeRequest;
import build.bazel.remote.execution.v2.GetTreeResponse;
import build.hearth.api.BlobUpload;
import build.hearth.api.ContentAddressableStorage;
import build.hearth.api.Digest;
import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import com.google.bytestream.ByteStreamGrpc;
import com.google.bytestream.ByteStreamProto.ReadRequest;
import com.google.bytestream.ByteStreamProto.ReadResponse;
import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.grpc.Channel;
import io.grpc.Context;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link ContentAddressableStorage} that is the CAS of one instance of a remote REAPI server,
 * reached over a gRPC channel: how a {@code hearth worker} process reads inputs and stores outputs.
 *
 * <p>Small blobs travel in batches (BatchReadBlobs, BatchUpdateBlobs) sized under the server's
 * {@code max_batch_total_size_bytes}, asked for once with GetCapabilities; larger ones are streamed
 * with ByteStream, never held whole in memory except by {@link #get}, which is for small blobs.
 * Writes are hashed locally as well as by the server, so a bad local copy fails with a message that
 * says so before anything is sent. Failures are {@link HearthException}s with the server's code and
 * message.
 *
 * <p>Thread-safe. It does not own the channel.
 */
final class RemoteCas implements ContentAddressableStorage {
  private static final Logger log = LoggerFactory.getLogger(RemoteCas.class);

  /** Digests per FindMissingBlobs request: some 750 KB, well within any message limit. */
  static final int FIND_MISSING_CHUNK = 10_000;

  /**
   * The most a batch may carry whatever the server advertises: gRPC's default message limit of 4
   * MiB, less room for the message's framing, so that neither side needs a larger limit.
   */
  static final long MAX_BATCH_BYTES = (4 << 20) - (64 << 10);

  /** What a blob adds to a batch beyond its bytes: its digest, status and framing. */
  static final int PER_BLOB_OVERHEAD = 256;

  static final int CHUNK_BYTES = 128 * 1024;

  private final String instanceName;
  private final String where;
  private final Duration timeout;
  private final ContentAddressableStorageGrpc.ContentAddressableStorageBlockingStub cas;
  private final ByteStreamGrpc.ByteStreamBlockingStub byteStream;
  private final ByteStreamGrpc.ByteStreamStub byteStreamAsync;
  private final CapabilitiesGrpc.CapabilitiesBlockingStub capabilities;
  private volatile long batchBudget; // 0 until the capabilities have been read

  /**
   * @param timeout the deadline of each unary call, and how long a streaming upload may stall
   */
  RemoteCas(Channel channel, String instanceName, Duration timeout) {
    this.instanceName = instanceName;
    this.where =
        channel.authority()
            + (instanceName.isEmpty() ? " (default instance)" : " instance '" + instanceName + "'");
    this.timeout = timeout;
    this.cas = ContentAddressableStorageGrpc.newBlockingStub(channel);
    this.byteStream = ByteStreamGrpc.newBlockingStub(channel);
    this.byteStreamAsync = ByteStreamGrpc.newStub(channel);
    this.capabilities = CapabilitiesGrpc.newBlockingStub(channel);
  }

  @Override
  public Set<Digest> findMissing(Iterable<Digest> digests) {
    Set<Digest> unique = new LinkedHashSet<>();
    for (Digest digest : digests) {
      if (!digest.isEmpty()) {
        unique.add(digest);
      }
    }
    Set<Digest> missing = new HashSet<>();
    List<build.bazel.remote.execution.v2.Digest> chunk = new ArrayList<>();
    Iterator<Digest> it = unique.iterator();
    while (it.hasNext()) {
      chunk.add(it.next().toProto());
      if (chunk.size() == FIND_MISSING_CHUNK || !it.hasNext()) {
        FindMissingBlobsResponse response =
            call(
                "finding missing blobs",
                () ->
                    cas()
                        .findMissingBlobs(
                            FindMissingBlobsRequest.newBuilder()
                                .setInstanceName(instanceName)
                                .setDigestFunction(DigestFunction.Value.SHA256)
                                .addAllBlobDigests(chunk)
                                .build()));
        for (build.bazel.remote.execution.v2.Digest proto : response.getMissingBlobDigestsList()) {
          missing.add(Digest.fromProto(proto));
        }
        chunk.clear();
      }
    }
    return missing;
  }

  @Override
  public boolean contains(Digest digest) {
    return findMissing(List.of(digest)).isEmpty();
  }

  @Override
  public InputStream read(Digest digest, long offset, long limit) {
    if (offset < 0 || limit < 0 || offset > digest.sizeBytes()) {
      throw HearthException.outOfRange(
          "cannot read %s from offset %d with limit %d: the offset must be within the blob's %d"
              + " bytes and neither may be negative",
          digest, offset, limit, digest.sizeBytes());
    }
    if (digest.isEmpty()) {
      return InputStream.nullInputStream();
    }
    long available = digest.sizeBytes() - offset;
    long expected = limit == 0 ? available : Math.min(limit, available);
    String what = "reading blob " + digest + " from " + where;
    Context.CancellableContext context = Context.current().withCancellation();
    RemoteBlobStream stream;
    try {
      Iterator<ReadResponse> responses =
          context.call(
              () ->
                  byteStream.read(
                      ReadRequest.newBuilder()
                          .setResourceName(readName(digest))
                          .setReadOffset(offset)
                          .setReadLimit(limit)
                          .build()));
      stream = new RemoteBlobStream(context, responses, what, digest, expected);
      stream.awaitFirst();
    } catch (Exception e) {
      context.close();
      throw RemoteErrors.toHearth(e, what);
    }
    return stream;
  }

  @Override
  public ByteString get(Digest digest) {
    if (digest.isEmpty()) {
      return ByteString.EMPTY;
    }
    if (digest.sizeBytes() > Integer.MAX_VALUE - 8) {
      throw HearthException.resourceExhausted(
          "blob %s is too large to hold in memory; read it as a stream", digest);
    }
    if (fitsBatch(digest.sizeBytes())) {
      BatchReadBlobsResponse response =
          call(
              "reading blob " + digest,
              () ->
                  cas()
                      .batchReadBlobs(
                          BatchReadBlobsRequest.newBuilder()
                              .setInstanceName(instanceName)
                              .setDigestFunction(DigestFunction.Value.SHA256)
                              .addDigests(digest.toProto())
                              .build()));
      for (BatchReadBlobsResponse.Response entry : response.getResponsesList()) {
        if (entry.getDigest().getHash().equals(digest.hash())) {
          checkOk(entry.getStatus());
          return entry.getData();
        }
      }
      throw HearthException.internal(
          "reading blob " + digest + " from " + where + ": the server's answer left it out", null);
    }
    try (InputStream in = read(digest, 0, 0)) {
      return UnsafeByteOperations.unsafeWrap(in.readAllBytes());
    } catch (IOException e) {
      // RemoteBlobStream throws HearthException; only close() could declare this.
      throw HearthException.internal("reading blob " + digest + " from " + where + " failed", e);
    }
  }

  @Override
  public Digest put(ByteString data) {
    Digest digest = Digest.of(data);
    put(digest, data);
    return digest;
  }

  @Override
  public void put(Digest expected, ByteString data) {
    verify(expected, data);
    if (expected.isEmpty()) {
      return;
    }
    if (fitsBatch(expected.sizeBytes())) {
      BlobStatus status = putBatch(List.of(Map.entry(expected, data))).get(0);
      if (!status.ok()) {
        throw new HearthException(status.code(), status.message());
      }
      return;
    }
    try (BlobUpload upload = startUpload(expected)) {
      upload.write(data);
      upload.commit();
    }
  }

  @Override
  public List<BlobStatus> putAll(Map<Digest, ByteString> blobs) {
    List<BlobStatus> statuses = new ArrayList<>(blobs.size());
    List<Map.Entry<Digest, ByteString>> batch = new ArrayList<>();
    List<Integer> batchIndexes = new ArrayList<>();
    long batchBytes = 0;
    long budget = batchBudget();
    for (Map.Entry<Digest, ByteString> entry : blobs.entrySet()) {
      Digest digest = entry.getKey();
      int index = statuses.size();
      statuses.add(null);
      try {
        verify(digest, entry.getValue());
      } catch (HearthException e) {
        statuses.set(index, new BlobStatus(digest, e.code(), e.getMessage()));
        continue;
      }
      if (digest.isEmpty()) {
        statuses.set(index, new BlobStatus(digest, StatusCode.OK, ""));
      } else if (fitsBatch(digest.sizeBytes())) {
        long cost = digest.sizeBytes() + PER_BLOB_OVERHEAD;
        if (batchBytes + cost > budget) {
          flush(batch, batchIndexes, statuses);
          batchBytes = 0;
        }
        batch.add(entry);
        batchIndexes.add(index);
        batchBytes += cost;
      } else {
        try {
          put(digest, entry.getValue());
          statuses.set(index, new BlobStatus(digest, StatusCode.OK, ""));
        } catch (HearthException e) {
          statuses.set(index, new BlobStatus(digest, e.code(), e.getMessage()));
        }
      }
    }
    flush(batch, batchIndexes, statuses);
    return statuses;
  }

  private void flush(
      List<Map.Entry<Digest, ByteString>> batch, List<Integer> indexes, List<BlobStatus> statuses) {
    if (batch.isEmpty()) {
      return;
    }
    List<BlobStatus> answers;
    try {
      answers = putBatch(batch);
    } catch (HearthException e) {
      answers = new ArrayList<>();
      for (Map.Entry<Digest, ByteString> entry : batch) {
        answers.add(new BlobStatus(entry.getKey(), e.code(), e.getMessage()));
      }
    }
    for (int i = 0; i < batch.size(); i++) {
      statuses.set(indexes.get(i), answers.get(i));
    }
    batch.clear();
    indexes.clear();
  }

  /** One BatchUpdateBlobs call; the statuses are in the order of {@code batch}. */
  private List<BlobStatus> putBatch(List<Map.Entry<Digest, ByteString>> batch) {
    BatchUpdateBlobsRequest.Builder request =
        BatchUpdateBlobsRequest.newBuilder()
            .setInstanceName(instanceName)
            .setDigestFunction(DigestFunction.Value.SHA256);
    for (Map.Entry<Digest, ByteString> entry : batch) {
      request.addRequests(
          BatchUpdateBlobsRequest.Request.newBuilder()
              .setDigest(entry.getKey().toProto())
              .setData(entry.getValue()));
    }
    BatchUpdateBlobsResponse response =
        call("writing " + batch.size() + " blobs", () -> cas().batchUpdateBlobs(request.build()));
    // Servers answer in request order as a rule, but REAPI does not promise it; match by digest.
    Map<build.bazel.remote.execution.v2.Digest, com.google.rpc.Status> byDigest = new HashMap<>();
    for (BatchUpdateBlobsResponse.Response entry : response.getResponsesList()) {
      byDigest.put(entry.getDigest(), entry.getStatus());
    }
    List<BlobStatus> statuses = new ArrayList<>(batch.size());
    for (Map.Entry<Digest, ByteString> entry : batch) {
      Digest digest = entry.getKey();
      com.google.rpc.Status status = byDigest.get(digest.toProto());
      if (status == null) {
        statuses.add(
            new BlobStatus(
                digest,
                StatusCode.INTERNAL,
                "the server's answer to BatchUpdateBlobs left out " + digest));
      } else {
        StatusCode code = StatusCode.forValue(status.getCode());
        statuses.add(
            new BlobStatus(digest, code, code == StatusCode.OK ? "" : status.getMessage()));
      }
    }
    return statuses;
  }

  @Override
  public BlobUpload startUpload(Digest digest) {
    return new RemoteUpload(
        byteStreamAsync,
        (instanceName.isEmpty() ? "" : instanceName + "/")
            + "uploads/"
            + UUID.randomUUID()
            + "/blobs/"
            + digest.hash()
            + "/"
            + digest.sizeBytes(),
        digest,
        CHUNK_BYTES,
        timeout,
        "uploading blob " + digest + " to " + where);
  }

  @Override
  public TreePage getTree(Digest root, int pageSize, String pageToken) {
    String what = "reading the tree under " + root + " from " + where;
    // The server streams every page; take the first and cancel the rest, which a server that
    // produces pages lazily, as Hearth does, never computes.
    try (Context.CancellableContext context = Context.current().withCancellation()) {
      Iterator<GetTreeResponse> pages =
          context.call(
              () ->
                  cas.withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS)
                      .getTree(
                          GetTreeRequest.newBuilder()
                              .setInstanceName(instanceName)
                              .setDigestFunction(DigestFunction.Value.SHA256)
                              .setRootDigest(root.toProto())
                              .setPageSize(pageSize)
                              .setPageToken(pageToken)
                              .build()));
      if (!pages.hasNext()) {
        return new TreePage(List.of(), "");
      }
      GetTreeResponse page = pages.next();
      return new TreePage(page.getDirectoriesList(), page.getNextPageToken());
    } catch (Exception e) {
      throw RemoteErrors.toHearth(e, what);
    }
  }

  private ContentAddressableStorageGrpc.ContentAddressableStorageBlockingStub cas() {
    return cas.withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  private String readName(Digest digest) {
    return (instanceName.isEmpty() ? "" : instanceName + "/") + "blobs/" + digest;
  }

  private boolean fitsBatch(long size) {
    return size + PER_BLOB_OVERHEAD <= batchBudget();
  }

  /**
   * What one batch may carry, from the server's capabilities; a server that cannot say gets the
   * conservative default, and is asked again next time.
   */
  long batchBudget() {
    long budget = batchBudget;
    if (budget > 0) {
      return budget;
    }
    long advertised;
    try {
      advertised =
          capabilities
              .withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS)
              .getCapabilities(
                  GetCapabilitiesRequest.newBuilder().setInstanceName(instanceName).build())
              .getCacheCapabilities()
              .getMaxBatchTotalSizeBytes();
    } catch (StatusRuntimeException e) {
      log.debug("Cannot read the capabilities of {}: {}", where, e.getStatus());
      return MAX_BATCH_BYTES;
    }
    budget = advertised <= 0 ? MAX_BATCH_BYTES : Math.min(advertised, MAX_BATCH_BYTES);
    batchBudget = budget;
    return budget;
  }

  private static void verify(Digest expected, ByteString data) {
    if (data.size() != expected.sizeBytes()) {
      throw HearthException.invalidArgument(
          "blob %s has %d bytes, not the %d its digest says",
          expected, data.size(), expected.sizeBytes());
    }
    Digest actual = Digest.of(data);
    if (!actual.hash().equals(expected.hash())) {
      throw HearthException.invalidArgument(
          "the bytes given for %s hash to %s; nothing was uploaded", expected, actual.hash());
    }
  }

  private static void checkOk(com.google.rpc.Status status) {
    StatusCode code = StatusCode.forValue(status.getCode());
    if (code != StatusCode.OK) {
      throw new HearthException(code, status.getMessage());
    }
  }

  private <T> T call(String what, Supplier<T> call) {
    try {
      return call.get();
    } catch (StatusRuntimeException e) {
      throw RemoteErrors.toHearth(e, what + " at " + where);
    }
  }
}
