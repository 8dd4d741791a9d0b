package build.hearth.core.persistent;

import build.hearth.api.ToolProtocol;
import build.hearth.proto.worker.WorkRequest;
import build.hearth.proto.worker.WorkResponse;
import java.io.IOException;
import java.io.InputStream;

/**
 * What the JMH suite ({@code build.hearth.benchmarks.jmh}) measures of this package: the framing of
 * Bazel's worker protocol, which {@link ToolMessageCodec} keeps package-private. This class lives
 * in the benchmarks module (the same package name on the class path, never in hearth-core's jar,
 * and not exported by its module descriptor), so core's surface does not grow for a benchmark.
 */
public final class BenchmarkAccess {
  private BenchmarkAccess() {}

  /** {@return the bytes of one framed {@code request} in {@code protocol}, as written to stdin} */
  public static byte[] encode(ToolProtocol protocol, WorkRequest request) {
    return ToolMessageCodec.of(protocol).encode(request);
  }

  /** {@return a reader of the responses of {@code protocol} on {@code stdout}} */
  public static Responses reader(ToolProtocol protocol, InputStream stdout) {
    return new Responses(ToolMessageCodec.of(protocol).reader(stdout));
  }

  /** The responses read from one stream, as a tool process's reader thread reads them. */
  public static final class Responses {
    private final ToolMessageCodec.ResponseReader reader;

    private Responses(ToolMessageCodec.ResponseReader reader) {
      this.reader = reader;
    }

    /**
     * {@return the next response, or null at the end of the stream}
     *
     * @throws IOException when the stream holds something that is not a response
     */
    public WorkResponse next() throws IOException {
      try {
        return reader.next();
      } catch (MalformedResponseException e) {
        throw new IOException(e.getMessage(), e);
      }
    }
  }
}
