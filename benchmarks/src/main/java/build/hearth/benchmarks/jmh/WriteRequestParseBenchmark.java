package build.hearth.benchmarks.jmh;

import build.hearth.grpc.bytestream.BenchmarkAccess;
import com.google.bytestream.ByteStreamProto.WriteRequest;
import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.UnsafeByteOperations;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The parse of one ByteStream WriteRequest as Bazel sends them (16 KiB of data, a write offset),
 * from a view of direct receive buffers, cut in one ({@code pieces = 1}) or two places as the
 * transport's reads fall. Per message, this is the service's cost before hashing.
 *
 * <p>Baseline: {@link #baselineProtobufAliasing}, protobuf's own parser with aliasing over the same
 * view (what the service used before issue 18), against {@link #hearthParser}, the field walk of
 * {@code WriteRequestParser}.
 *
 * <pre>
 * java -cp benchmarks/target/hearth-benchmarks.jar org.openjdk.jmh.Main WriteRequestParseBenchmark
 * </pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class WriteRequestParseBenchmark {
  @Param({"1", "3"})
  public int pieces;

  private ByteString view;

  /** A 16 KiB WriteRequest in {@code pieces} direct buffers. */
  @Setup
  public void setUp() {
    byte[] data = new byte[16 * 1024];
    new Random(18).nextBytes(data);
    byte[] bytes =
        WriteRequest.newBuilder()
            .setWriteOffset(5L << 20)
            .setData(ByteString.copyFrom(data))
            .build()
            .toByteArray();
    ByteBuffer all = ByteBuffer.allocateDirect(bytes.length);
    all.put(bytes).flip();
    int step = bytes.length / pieces;
    ByteString joined = ByteString.EMPTY;
    for (int i = 0; i < pieces; i++) {
      int end = i == pieces - 1 ? bytes.length : (i + 1) * step;
      joined = joined.concat(UnsafeByteOperations.unsafeWrap(all.slice(i * step, end - i * step)));
    }
    view = joined;
    List<ByteBuffer> buffers = view.asReadOnlyByteBufferList();
    if (buffers.size() != pieces || !buffers.stream().allMatch(ByteBuffer::isDirect)) {
      throw new IllegalStateException("the view is not " + pieces + " direct buffers");
    }
  }

  @Benchmark
  public WriteRequest baselineProtobufAliasing() throws InvalidProtocolBufferException {
    return BenchmarkAccess.parseWriteRequestWithProtobuf(view);
  }

  @Benchmark
  public WriteRequest hearthParser() throws InvalidProtocolBufferException {
    return BenchmarkAccess.parseWriteRequest(view);
  }
}
