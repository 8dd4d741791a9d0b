package build.hearth.benchmarks.jmh;

import build.hearth.api.Digest;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Random;
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
 * Digest parsing and formatting, what every REAPI request pays per digest (FindMissingBlobs pays it
 * 10,000 times per call).
 *
 * <p>Baselines, each on the same input as the Hearth method after it:
 *
 * <ul>
 *   <li>{@link #baselineParseLong}: {@code Long.parseLong} of the size, against {@link
 *       #digestParse} (split, hash check, size check, record);
 *   <li>{@link #baselineHexParse}: {@code HexFormat.parseHex} of the hash (hex to bytes), against
 *       {@link #digestOfHash} (the constructor's lowercase-hex check);
 *   <li>{@link #baselineSha256}: {@code MessageDigest} over a 64-byte blob, against {@link
 *       #digestOfBlob} (the same hash formatted as hex into a {@code Digest});
 *   <li>{@link #baselineHexFormat}: {@code HexFormat.formatHex} of 32 bytes (bytes to hex), against
 *       {@link #digestToString} ({@code hash/size}, the form of logs and resource names).
 * </ul>
 *
 * <pre>
 * java -cp benchmarks/target/hearth-benchmarks.jar org.openjdk.jmh.Main DigestBenchmark
 * </pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class DigestBenchmark {
  private byte[] blob;
  private byte[] hashBytes;
  private String hash;
  private String sizeText;
  private String text;
  private Digest digest;
  private final MessageDigest sha = Digest.newMessageDigest();

  /** A 64-byte blob (the size of a small Directory message) and its digest in every form. */
  @Setup
  public void setUp() {
    blob = new byte[64];
    new Random(18).nextBytes(blob);
    digest = Digest.of(blob);
    hash = digest.hash();
    hashBytes = HexFormat.of().parseHex(hash);
    sizeText = Long.toString(digest.sizeBytes());
    text = digest.toString();
  }

  @Benchmark
  public long baselineParseLong() {
    return Long.parseLong(sizeText);
  }

  @Benchmark
  public Digest digestParse() {
    return Digest.parse(text);
  }

  @Benchmark
  public byte[] baselineHexParse() {
    return HexFormat.of().parseHex(hash);
  }

  @Benchmark
  public Digest digestOfHash() {
    return new Digest(hash, 64);
  }

  @Benchmark
  public byte[] baselineSha256() {
    return sha.digest(blob);
  }

  @Benchmark
  public Digest digestOfBlob() {
    return Digest.of(blob);
  }

  @Benchmark
  public String baselineHexFormat() {
    return HexFormat.of().formatHex(hashBytes);
  }

  @Benchmark
  public String digestToString() {
    return digest.toString();
  }
}
