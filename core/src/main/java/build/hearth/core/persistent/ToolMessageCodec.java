package build.hearth.core.persistent;

import build.hearth.api.ToolProtocol;
import build.hearth.proto.worker.WorkRequest;
import build.hearth.proto.worker.WorkResponse;
import java.io.IOException;
import java.io.InputStream;

/**
 * How {@link WorkRequest}s are written to a tool process's stdin and {@link WorkResponse}s read
 * from its stdout in one {@link ToolProtocol}. Encoding is stateless and thread-safe; a {@link
 * ResponseReader} belongs to the one thread that reads a process's stdout.
 */
interface ToolMessageCodec {
  /** The largest response accepted, so that garbage on stdout cannot make us allocate gigabytes. */
  int MAX_RESPONSE_BYTES = 64 << 20;

  /** How many bytes of a broken response an error message quotes. */
  int QUOTE_BYTES = 200;

  /**
   * How many of the latest bytes read a reader keeps for quoting: enough for any parser's
   * read-ahead plus the start of the message being parsed.
   */
  int RECORDED_BYTES = 64 << 10;

  /** The codec of {@code protocol}. */
  static ToolMessageCodec of(ToolProtocol protocol) {
    return switch (protocol) {
      case PROTO -> ProtoMessageCodec.INSTANCE;
      case JSON -> new JsonMessageCodec();
    };
  }

  /** The bytes of one framed request, ready to be written and flushed in one piece. */
  byte[] encode(WorkRequest request);

  /** Reads the responses on {@code stdout}, one after the other. */
  ResponseReader reader(InputStream stdout);

  /** Reads responses from one stream; used by a single thread. */
  interface ResponseReader {
    /**
     * The next response, blocking until it has arrived whole.
     *
     * @return null when the stream ended cleanly between two responses
     * @throws MalformedResponseException when the stream holds something that is not a response
     * @throws java.io.EOFException when the stream ended in the middle of a response
     * @throws IOException when reading failed
     */
    WorkResponse next() throws IOException, MalformedResponseException;
  }
}
