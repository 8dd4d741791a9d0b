package build.hearth.benchmarks.jmh;

import build.hearth.api.ToolProtocol;
import build.hearth.core.persistent.BenchmarkAccess;
import build.hearth.proto.worker.Input;
import build.hearth.proto.worker.WorkRequest;
import build.hearth.proto.worker.WorkResponse;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.google.protobuf.ByteString;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The persistent-worker protocol's framing: a {@code WorkRequest} encoded for a tool's stdin, and
 * {@code WorkResponse}s read from its stdout, in both protocols (varint-delimited protobuf, and
 * JSON objects).
 *
 * <p>Baselines, on the same messages and bytes:
 *
 * <ul>
 *   <li>{@link #baselineWriteDelimited}: protobuf's own {@code writeDelimitedTo}, against {@link
 *       #encodeProto} and {@link #encodeJson};
 *   <li>{@link #baselineParseDelimited}: protobuf's own {@code parseDelimitedFrom} (which skips
 *       unknown fields and reads ahead), against {@link #readProto}, which checks every field as it
 *       arrives so that stray text on stdout fails fast;
 *   <li>{@link #baselineJsonTokens}: Jackson's streaming parser stepping over every token of the
 *       same JSON, against {@link #readJson}, which builds the responses.
 * </ul>
 *
 * <p>The request is a javac-sized one (40 arguments, 300 inputs with a path and a 32-byte digest);
 * the readers read {@value #RESPONSES} responses per invocation from one stream, as a tool
 * process's reader thread does, and scores are per response.
 *
 * <pre>
 * java -cp benchmarks/target/hearth-benchmarks.jar org.openjdk.jmh.Main WorkerFramingBenchmark
 * </pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class WorkerFramingBenchmark {
  static final int RESPONSES = 1000;

  private final JsonFactory json = JsonFactory.builder().build();
  private WorkRequest request;
  private byte[] protoResponses;
  private byte[] jsonResponses;

  /** One request and {@value #RESPONSES} framed responses in each protocol. */
  @Setup
  public void setUp() throws IOException {
    Random random = new Random(18);
    WorkRequest.Builder builder = WorkRequest.newBuilder().setRequestId(7);
    for (int i = 0; i < 40; i++) {
      builder.addArguments(
          i % 2 == 0 ? "--option_" + i : "bazel-out/k8-fastbuild/bin/lib" + i + "/lib.jar");
    }
    for (int i = 0; i < 300; i++) {
      byte[] digest = new byte[32];
      random.nextBytes(digest);
      builder.addInputs(
          Input.newBuilder()
              .setPath("bazel-out/k8-fastbuild/bin/lib" + (i / 10) + "/src/File" + i + ".java")
              .setDigest(ByteString.copyFrom(digest)));
    }
    request = builder.build();

    ByteArrayOutputStream proto = new ByteArrayOutputStream();
    ByteArrayOutputStream text = new ByteArrayOutputStream();
    for (int i = 0; i < RESPONSES; i++) {
      WorkResponse response =
          WorkResponse.newBuilder()
              .setRequestId(i + 1)
              .setExitCode(i % 10 == 0 ? 1 : 0)
              .setOutput(
                  i % 10 == 0
                      ? "src/File" + i + ".java:12: error: cannot find symbol\n  symbol: Foo\n"
                      : "")
              .build();
      response.writeDelimitedTo(proto);
      text.write(
          ("{\"exitCode\":"
                  + response.getExitCode()
                  + ",\"output\":\""
                  + response.getOutput().replace("\n", "\\n")
                  + "\",\"requestId\":"
                  + response.getRequestId()
                  + "}\n")
              .getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }
    protoResponses = proto.toByteArray();
    jsonResponses = text.toByteArray();
  }

  @Benchmark
  public byte[] baselineWriteDelimited() throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream(request.getSerializedSize() + 5);
    request.writeDelimitedTo(out);
    return out.toByteArray();
  }

  @Benchmark
  public byte[] encodeProto() {
    return BenchmarkAccess.encode(ToolProtocol.PROTO, request);
  }

  @Benchmark
  public byte[] encodeJson() {
    return BenchmarkAccess.encode(ToolProtocol.JSON, request);
  }

  @Benchmark
  @OperationsPerInvocation(RESPONSES)
  public int baselineParseDelimited() throws IOException {
    InputStream in = new ByteArrayInputStream(protoResponses);
    int sum = 0;
    for (WorkResponse response; (response = WorkResponse.parseDelimitedFrom(in)) != null; ) {
      sum += response.getRequestId();
    }
    return sum;
  }

  @Benchmark
  @OperationsPerInvocation(RESPONSES)
  public int readProto() throws IOException {
    return readAll(ToolProtocol.PROTO, protoResponses);
  }

  @Benchmark
  @OperationsPerInvocation(RESPONSES)
  public int baselineJsonTokens() throws IOException {
    int tokens = 0;
    try (JsonParser parser = json.createParser(new ByteArrayInputStream(jsonResponses))) {
      while (parser.nextToken() != null) {
        tokens++;
      }
    }
    return tokens;
  }

  @Benchmark
  @OperationsPerInvocation(RESPONSES)
  public int readJson() throws IOException {
    return readAll(ToolProtocol.JSON, jsonResponses);
  }

  private static int readAll(ToolProtocol protocol, byte[] bytes) throws IOException {
    BenchmarkAccess.Responses responses =
        BenchmarkAccess.reader(protocol, new ByteArrayInputStream(bytes));
    int sum = 0;
    for (WorkResponse response; (response = responses.next()) != null; ) {
      sum += response.getRequestId();
    }
    if (sum != RESPONSES * (RESPONSES + 1) / 2) {
      throw new IllegalStateException("read responses with request ids summing to " + sum);
    }
    return sum;
  }
}
