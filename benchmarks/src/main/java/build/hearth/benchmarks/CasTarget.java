package build.hearth.benchmarks;

import build.hearth.api.Digest;
import java.util.List;
import java.util.Map;
import java.util.function.IntSupplier;

/**
 * The four CAS operations the load driver times, behind one interface so the same measurement runs
 * over gRPC and directly against the embedding API; the difference between the two is the cost of
 * the transport.
 *
 * <p>Each method blocks until the operation is complete and fails with an unchecked exception if
 * the server's answer is wrong, so a broken server never produces a fast but meaningless number.
 * Instances are used from one thread at a time.
 */
interface CasTarget extends AutoCloseable {

  /** Uploads {@code data} (already hashed to {@code digest}) in chunks of {@code chunkSize}. */
  void write(byte[] data, Digest digest, int chunkSize);

  /** Reads the whole blob and returns the number of bytes received, without keeping them. */
  long read(Digest digest);

  /** Uploads small blobs in one round trip or a few. */
  void putSmall(Map<Digest, byte[]> blobs);

  /**
   * Prepares a FindMissingBlobs call for {@code digests}, so that building the request is not
   * timed. Each {@code getAsInt()} sends it once and returns how many digests the server reports
   * missing.
   */
  IntSupplier findMissingCall(List<Digest> digests);

  /** A short name for the report, such as "gRPC over loopback". */
  String description();

  @Override
  void close();
}
