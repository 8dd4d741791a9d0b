package build.hearth.benchmarks;

import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.OutputFile;
import build.hearth.api.Digest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Every write a server acknowledged during a fault or load run: blobs (by digest) and action-cache
 * entries (the result the server accepted for each action), and the check that all of them read
 * back. A write that failed, or whose answer never came, is not recorded: the server owes nothing
 * for it. Thread-safe: the drivers' client threads record into one instance.
 */
final class AcknowledgedWrites {
  /**
   * Blobs up to this size are read back with BatchReadBlobs, in batches of about this many bytes.
   */
  static final long BATCH_READ_BYTES = 1 << 20;

  private final Map<Digest, Boolean> blobs = new ConcurrentHashMap<>();
  private final List<Digest> blobList = new CopyOnWriteArrayList<>();
  private final Map<Digest, ActionResult> results = new ConcurrentHashMap<>();

  void blob(Digest digest) {
    if (blobs.putIfAbsent(digest, Boolean.TRUE) == null) {
      blobList.add(digest);
    }
  }

  void result(Digest action, ActionResult result) {
    results.put(action, result);
  }

  /** How many distinct blobs were acknowledged so far; also the index of the next one. */
  int blobCount() {
    return blobList.size();
  }

  long blobBytes() {
    return blobs.keySet().stream().mapToLong(Digest::sizeBytes).sum();
  }

  int resultCount() {
    return results.size();
  }

  /** A blob acknowledged earlier, chosen at random; empty if there is none yet. */
  Optional<Digest> anyBlob(Random random) {
    int size = blobList.size();
    return size == 0 ? Optional.empty() : Optional.of(blobList.get(random.nextInt(size)));
  }

  /**
   * Checks every acknowledged write against the server: each blob is present (FindMissingBlobs),
   * the blobs acknowledged from the {@code readFrom}-th on are read back and their bytes hash to
   * their digests, each action-cache entry is the result that was acknowledged and every blob it
   * references is present. Returns what is wrong, one line per problem; empty if nothing is.
   *
   * @param readFrom the first blob, in the order they were acknowledged, to read back ({@code 0}:
   *     all); the caller passes what {@link #blobCount()} was at its previous check, so that each
   *     blob is read once after the crash that followed its write
   */
  List<String> verify(ReapiClient client, int readFrom) {
    List<String> problems = new ArrayList<>();
    List<Digest> all = List.copyOf(blobList);
    for (int from = 0; from < all.size(); from += 2000) {
      List<Digest> part = all.subList(from, Math.min(all.size(), from + 2000));
      for (Digest missing : client.findMissing(part)) {
        problems.add("acknowledged blob " + missing + " is missing");
      }
    }
    List<Digest> batch = new ArrayList<>();
    long batchBytes = 0;
    for (Digest digest : all.subList(Math.min(readFrom, all.size()), all.size())) {
      if (digest.sizeBytes() > BATCH_READ_BYTES) {
        checkRead(client, digest, problems);
        continue;
      }
      if (batchBytes + digest.sizeBytes() > BATCH_READ_BYTES) {
        checkBatch(client, batch, problems);
        batch.clear();
        batchBytes = 0;
      }
      batch.add(digest);
      batchBytes += digest.sizeBytes();
    }
    checkBatch(client, batch, problems);
    results.forEach(
        (action, expected) -> {
          Optional<ActionResult> found = client.getActionResult(action);
          if (found.isEmpty()) {
            problems.add("acknowledged action-cache entry " + action + " is missing");
            return;
          }
          if (!outputs(found.get()).equals(outputs(expected))
              || found.get().getExitCode() != expected.getExitCode()) {
            problems.add(
                "action-cache entry "
                    + action
                    + " is not the acknowledged result: "
                    + found.get()
                    + " instead of "
                    + expected);
          }
          for (Digest missing : client.findMissing(outputs(found.get()))) {
            problems.add("blob " + missing + " of the cached result of " + action + " is missing");
          }
        });
    return problems;
  }

  private static List<Digest> outputs(ActionResult result) {
    List<Digest> digests = new ArrayList<>();
    for (OutputFile file : result.getOutputFilesList()) {
      digests.add(Digest.fromProto(file.getDigest()));
    }
    return digests;
  }

  private static void checkRead(ReapiClient client, Digest digest, List<String> problems) {
    try {
      byte[] bytes = client.read(digest);
      if (!Digest.of(bytes).equals(digest)) {
        problems.add("blob " + digest + " read back as " + Digest.of(bytes) + ": corrupt");
      }
    } catch (StatusRuntimeException e) {
      problems.add("blob " + digest + " cannot be read: " + e.getStatus());
    }
  }

  private static void checkBatch(
      ReapiClient client, Collection<Digest> batch, List<String> problems) {
    if (batch.isEmpty()) {
      return;
    }
    Map<Digest, Object> read = client.batchRead(batch);
    for (Digest digest : batch) {
      Object answer = read.get(digest);
      if (answer instanceof byte[] bytes) {
        if (!Digest.of(bytes).equals(digest)) {
          problems.add("blob " + digest + " read back as " + Digest.of(bytes) + ": corrupt");
        }
      } else if (answer instanceof Status status) {
        problems.add("blob " + digest + " cannot be read: " + status);
      } else {
        problems.add("BatchReadBlobs did not answer for " + digest);
      }
    }
  }
}
