package build.hearth.benchmarks.jmh;

import build.hearth.api.Digest;
import build.hearth.grpc.bytestream.BenchmarkAccess;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * ByteStream resource names, parsed once per Write stream and once per Read.
 *
 * <p>Baseline: {@link #baselineSplit}, {@code String.split("/")} of the same Write name plus {@code
 * Long.parseLong} of its last segment, the least any parser does; {@link #parseWrite} and {@link
 * #parseRead} add the checks that make a bad name an INVALID_ARGUMENT naming the expected form
 * (reserved segments, the hash's form, the size's digits) and build the {@code Digest}.
 *
 * <pre>
 * java -cp benchmarks/target/hearth-benchmarks.jar org.openjdk.jmh.Main ResourceNameBenchmark
 * </pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class ResourceNameBenchmark {
  private String writeName;
  private String readName;

  /** Names as Bazel sends them: an instance name of two segments, a random upload id. */
  @Setup
  public void setUp() {
    Digest digest = Digest.of(new byte[16 * 1024]);
    writeName =
        "main/linux/uploads/0f8fad5b-d9cb-469f-a165-70867728950e/blobs/"
            + digest.hash()
            + "/"
            + digest.sizeBytes();
    readName = "main/linux/blobs/" + digest.hash() + "/" + digest.sizeBytes();
  }

  @Benchmark
  public long baselineSplit() {
    String[] segments = writeName.split("/");
    return Long.parseLong(segments[segments.length - 1]) + segments[segments.length - 2].length();
  }

  @Benchmark
  public Digest parseWrite() {
    return BenchmarkAccess.parseWrite(writeName);
  }

  @Benchmark
  public Digest parseRead() {
    return BenchmarkAccess.parseRead(readName);
  }
}
