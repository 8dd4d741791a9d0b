package build.hearth.grpc.bytestream;

import com.google.bytestream.ByteStreamProto.WriteRequest;
import java.io.IOException;
import java.io.InputStream;

/**
 * A received WriteRequest whose {@code data} may point straight into the transport's receive
 * buffers (see {@link InboundWriteMarshaller}). Those buffers stay the request's until {@link
 * #close()} returns them to the transport; the request's bytes must not be used after that.
 */
final class InboundWrite implements AutoCloseable {
  private final WriteRequest request;
  private final InputStream buffers;
  private final String malformed;

  /** {@code buffers} owns what {@code request} points into, or is null when it points nowhere. */
  InboundWrite(WriteRequest request, InputStream buffers) {
    this.request = request;
    this.buffers = buffers;
    this.malformed = null;
  }

  private InboundWrite(String malformed) {
    this.request = WriteRequest.getDefaultInstance();
    this.buffers = null;
    this.malformed = malformed;
  }

  /**
   * A message that did not parse. It reaches the service instead of failing in the transport, which
   * would end the stream with UNKNOWN "Application error processing RPC".
   */
  static InboundWrite malformed(String why) {
    return new InboundWrite(why);
  }

  /** {@return why the message did not parse, or null if it did} */
  String malformed() {
    return malformed;
  }

  WriteRequest request() {
    return request;
  }

  @Override
  public void close() {
    if (buffers == null) {
      return;
    }
    try {
      buffers.close();
    } catch (IOException e) {
      // Closing releases reference counts and cannot fail for the transport's buffers.
      throw new IllegalStateException("releasing a WriteRequest's receive buffers failed", e);
    }
  }
}
