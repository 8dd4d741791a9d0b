package build.hearth.core.storage;

/** The heap in use after garbage collection, for the tests that measure bytes per entry. */
final class HeapMeasure {
  private HeapMeasure() {}

  /**
   * Used heap bytes after a few full collections, which settle what is unreachable (the runtime's
   * view, as java.management is not readable from the core module's tests).
   */
  static long usedAfterGc() {
    long used = Long.MAX_VALUE;
    for (int i = 0; i < 4; i++) {
      System.gc();
      Runtime runtime = Runtime.getRuntime();
      used = Math.min(used, runtime.totalMemory() - runtime.freeMemory());
    }
    return used;
  }

  /**
   * A distinct digest per {@code i} for a 1-byte blob: there are only 256 distinct 1-byte contents,
   * and the stores do not hash what they store (the gRPC layer does), so a flood of distinct tiny
   * blobs needs made-up hashes.
   */
  static build.hearth.api.Digest tinyDigest(int i) {
    return new build.hearth.api.Digest(
        build.hearth.api.Digest.of(
                Integer.toString(i).getBytes(java.nio.charset.StandardCharsets.UTF_8))
            .hash(),
        1);
  }
}
