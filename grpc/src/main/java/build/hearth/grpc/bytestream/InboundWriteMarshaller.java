package build.hearth.grpc.bytestream;

import com.google.bytestream.ByteStreamProto.WriteRequest;
import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.UnsafeByteOperations;
import io.grpc.Detachable;
import io.grpc.HasByteBuffer;
import io.grpc.MethodDescriptor;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.ProtoUtils;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Parses a ByteStream WriteRequest without copying its data. The standard marshaller copies every
 * received byte twice before the service sees it (from the network buffers into an array, then into
 * the message's ByteString); uploads are all data, so this one takes ownership of the network
 * buffers instead and parses with aliasing, leaving {@code data} a view of them. The service hashes
 * and stores the bytes and then closes the {@link InboundWrite} to hand the buffers back.
 *
 * <p>Streams that cannot lend their buffers (the in-process transport, for one) are parsed the
 * standard way. A message that does not parse becomes {@link InboundWrite#malformed}, for the
 * service to refuse with INVALID_ARGUMENT.
 */
final class InboundWriteMarshaller implements MethodDescriptor.Marshaller<InboundWrite> {
  private final MethodDescriptor.Marshaller<WriteRequest> standard =
      ProtoUtils.marshaller(WriteRequest.getDefaultInstance());

  @Override
  public InputStream stream(InboundWrite value) {
    return standard.stream(value.request());
  }

  @Override
  public InboundWrite parse(InputStream stream) {
    if (!(stream instanceof Detachable)
        || !(stream instanceof HasByteBuffer)
        || !((HasByteBuffer) stream).byteBufferSupported()) {
      try {
        return new InboundWrite(standard.parse(stream), null);
      } catch (StatusRuntimeException e) {
        Throwable cause = e.getCause() != null ? e.getCause() : e;
        return InboundWrite.malformed(cause.getMessage());
      }
    }
    InputStream owned = ((Detachable) stream).detach();
    try {
      CodedInputStream in = viewOf(owned).newCodedInput();
      in.enableAliasing(true);
      in.setSizeLimit(Integer.MAX_VALUE);
      WriteRequest request = WriteRequest.parser().parseFrom(in);
      // parseFrom(CodedInputStream) stops at a stray end-group tag and returns the fields before
      // it; protobuf's other parseFrom methods refuse such a message, and so does this one.
      in.checkLastTagWas(0);
      return new InboundWrite(request, owned);
    } catch (IOException e) {
      closeQuietly(owned);
      return InboundWrite.malformed(e.getMessage());
    } catch (RuntimeException e) {
      closeQuietly(owned);
      throw e;
    }
  }

  private static void closeQuietly(InputStream owned) {
    try {
      owned.close();
    } catch (IOException e) {
      // Releasing the transport's buffers does not fail; the parse error matters more.
    }
  }

  /**
   * The stream's bytes as one ByteString over its buffers. Marking first makes the stream keep each
   * buffer it skips past (instead of releasing it), so they all live until it is closed.
   */
  private static ByteString viewOf(InputStream owned) throws IOException {
    int size = owned.available();
    owned.mark(size);
    List<ByteString> pieces = new ArrayList<>();
    while (owned.available() > 0) {
      ByteBuffer buffer = ((HasByteBuffer) owned).getByteBuffer();
      if (buffer == null || !buffer.hasRemaining()) {
        throw new IOException("the transport stopped lending its buffers midway");
      }
      pieces.add(UnsafeByteOperations.unsafeWrap(buffer));
      owned.skip(buffer.remaining());
    }
    owned.reset();
    return ByteString.copyFrom(pieces);
  }
}
