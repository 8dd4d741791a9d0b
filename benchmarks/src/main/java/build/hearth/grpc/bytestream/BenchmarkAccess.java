package build.hearth.grpc.bytestream;

import build.hearth.api.Digest;

/**
 * What the JMH suite ({@code build.hearth.benchmarks.jmh}) measures of this package, which keeps
 * {@link ResourceName} package-private. This class lives in the benchmarks module (the same package
 * name on the class path, never in hearth-grpc's jar), so the transport's surface does not grow for
 * a benchmark.
 */
public final class BenchmarkAccess {
  private BenchmarkAccess() {}

  /** {@return the digest of a ByteStream Write's resource name, parsed as the service does} */
  public static Digest parseWrite(String resourceName) {
    return ResourceName.parseWrite(resourceName).digest();
  }

  /** {@return the digest of a ByteStream Read's resource name, parsed as the service does} */
  public static Digest parseRead(String resourceName) {
    return ResourceName.parseRead(resourceName).digest();
  }
}
