package build.hearth.grpc.bytestream;

import build.hearth.api.Digest;
import com.google.bytestream.ByteStreamProto.WriteRequest;
import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;

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

  /**
   * {@return the WriteRequest in {@code view} (the transport's receive buffers), parsed as the
   * service does}
   *
   * @throws InvalidProtocolBufferException if it is not one
   */
  public static WriteRequest parseWriteRequest(ByteString view)
      throws InvalidProtocolBufferException {
    return WriteRequestParser.parse(view);
  }

  /**
   * {@return the WriteRequest in {@code view} parsed by protobuf with aliasing, as the service did
   * before issue 18: the baseline of the parse benchmark}
   *
   * @throws InvalidProtocolBufferException if it is not one
   */
  public static WriteRequest parseWriteRequestWithProtobuf(ByteString view)
      throws InvalidProtocolBufferException {
    CodedInputStream in = view.newCodedInput();
    in.enableAliasing(true);
    in.setSizeLimit(Integer.MAX_VALUE);
    return WriteRequest.parser().parseFrom(in);
  }

  /** {@return the digest of a ByteStream Read's resource name, parsed as the service does} */
  public static Digest parseRead(String resourceName) {
    return ResourceName.parseRead(resourceName).digest();
  }
}
