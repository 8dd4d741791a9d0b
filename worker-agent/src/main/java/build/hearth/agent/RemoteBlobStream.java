package build.hearth.agent;

import build.hearth.api.Digest;
import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import com.google.bytestream.ByteStreamProto.ReadResponse;
import com.google.protobuf.ByteString;
import io.grpc.Context;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.Iterator;
import java.util.Objects;

/**
 * The bytes of a ByteStream Read as an {@link InputStream}.
 *
 * <p>The call runs in its own cancellable {@link Context}, so {@link #close()} before the end stops
 * the server from sending the rest. gRPC's blocking iterator asks the server for one message at a
 * time, so no more than a chunk or two is ever buffered however large the blob. A failure in the
 * middle of the stream is thrown as a {@link HearthException} with the server's code.
 *
 * <p>Not thread-safe, like any InputStream.
 */
final class RemoteBlobStream extends InputStream {
  private final Context.CancellableContext context;
  private final Iterator<ReadResponse> responses;
  private final String what;
  private final Digest digest;
  private final long expected;

  /** The unread part of the last message's data; a view, not a copy. */
  private ByteBuffer chunk = ByteBuffer.allocate(0);

  private long received;
  private boolean done;

  /**
   * @param expected how many bytes the read must yield; fewer means the stream broke off
   */
  RemoteBlobStream(
      Context.CancellableContext context,
      Iterator<ReadResponse> responses,
      String what,
      Digest digest,
      long expected) {
    this.context = context;
    this.responses = responses;
    this.what = what;
    this.digest = digest;
    this.expected = expected;
  }

  /**
   * Waits for the first message, so that a missing blob or a bad offset is reported by {@code
   * read()} itself rather than by the first read from the stream.
   */
  void awaitFirst() {
    fill();
  }

  @Override
  public int read() {
    if (!fill()) {
      return -1;
    }
    return chunk.get() & 0xff;
  }

  @Override
  public int read(byte[] buffer, int offset, int length) {
    Objects.checkFromIndexSize(offset, length, buffer.length);
    if (length == 0) {
      return 0;
    }
    if (!fill()) {
      return -1;
    }
    int n = Math.min(length, chunk.remaining());
    chunk.get(buffer, offset, n);
    return n;
  }

  @Override
  public int available() {
    return chunk.remaining();
  }

  /** Makes unread bytes available; false at the end of the blob. */
  private boolean fill() {
    while (!chunk.hasRemaining()) {
      if (done) {
        return false;
      }
      try {
        if (!responses.hasNext()) {
          done = true;
          context.close();
          if (received < expected) {
            throw new HearthException(
                StatusCode.DATA_LOSS,
                what
                    + ": the server ended the stream after "
                    + received
                    + " of "
                    + expected
                    + " bytes of "
                    + digest);
          }
          return false;
        }
        ByteString data = responses.next().getData();
        received += data.size();
        chunk = data.asReadOnlyByteBuffer();
      } catch (RuntimeException e) {
        done = true;
        context.close();
        throw RemoteErrors.toHearth(e, what);
      }
    }
    return true;
  }

  @Override
  public void close() {
    done = true;
    chunk = ByteBuffer.allocate(0);
    // Cancels the call if the server is still sending; a no-op once it has finished.
    context.close();
  }
}
