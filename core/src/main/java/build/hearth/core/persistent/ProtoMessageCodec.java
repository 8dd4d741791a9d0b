package build.hearth.core.persistent;

import build.hearth.api.ToolProtocol;
import build.hearth.proto.worker.WorkRequest;
import build.hearth.proto.worker.WorkResponse;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.WireFormat;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * {@link ToolProtocol#PROTO}: each message is a varint32 length followed by that many bytes of
 * protobuf, as {@code writeDelimitedTo} writes it.
 *
 * <p>Responses are parsed field by field as their bytes arrive, and any field that is not one of
 * the four of {@code WorkResponse} (with its proper wire type) is an error at once. That is
 * stricter than protobuf, which would skip unknown fields, and it is what makes stray text on
 * stdout fail fast: a line such as {@code hello} reads as a length of 104 followed by field 12, so
 * it is refused after two bytes, instead of the reader waiting for 104 bytes that may never come.
 *
 * <p>Stateless; a reader is used by one thread.
 */
final class ProtoMessageCodec implements ToolMessageCodec {
  static final ProtoMessageCodec INSTANCE = new ProtoMessageCodec();

  private static final int EXIT_CODE =
      tag(WorkResponse.EXIT_CODE_FIELD_NUMBER, WireFormat.WIRETYPE_VARINT);
  private static final int OUTPUT =
      tag(WorkResponse.OUTPUT_FIELD_NUMBER, WireFormat.WIRETYPE_LENGTH_DELIMITED);
  private static final int REQUEST_ID =
      tag(WorkResponse.REQUEST_ID_FIELD_NUMBER, WireFormat.WIRETYPE_VARINT);
  private static final int WAS_CANCELLED =
      tag(WorkResponse.WAS_CANCELLED_FIELD_NUMBER, WireFormat.WIRETYPE_VARINT);

  private ProtoMessageCodec() {}

  private static int tag(int fieldNumber, int wireType) {
    return fieldNumber << 3 | wireType;
  }

  @Override
  public byte[] encode(WorkRequest request) {
    int size = request.getSerializedSize();
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(size + 5);
    try {
      request.writeDelimitedTo(bytes);
    } catch (IOException e) {
      throw new UncheckedIOException("a ByteArrayOutputStream does not fail", e);
    }
    return bytes.toByteArray();
  }

  @Override
  public ResponseReader reader(InputStream stdout) {
    return new Reader(new RecordingInputStream(stdout, RECORDED_BYTES));
  }

  private static final class Reader implements ResponseReader {
    private final RecordingInputStream in;

    Reader(RecordingInputStream in) {
      this.in = in;
    }

    @Override
    public WorkResponse next() throws IOException, MalformedResponseException {
      long start = in.position();
      int length = readLength(start);
      if (length < 0) {
        return null;
      }
      Body body = new Body(in, length);
      CodedInputStream coded =
          CodedInputStream.newInstance(body, Math.max(1, Math.min(length, 4096)));
      WorkResponse.Builder response = WorkResponse.newBuilder();
      try {
        while (true) {
          int tag = coded.readTag();
          if (tag == 0) {
            break;
          } else if (tag == EXIT_CODE) {
            response.setExitCode(coded.readInt32());
          } else if (tag == OUTPUT) {
            response.setOutput(coded.readStringRequireUtf8());
          } else if (tag == REQUEST_ID) {
            response.setRequestId(coded.readInt32());
          } else if (tag == WAS_CANCELLED) {
            response.setWasCancelled(coded.readBool());
          } else {
            throw malformed(
                start,
                String.format(
                    "field %d with wire type %d is not part of a WorkResponse",
                    WireFormat.getTagFieldNumber(tag), WireFormat.getTagWireType(tag)),
                null);
          }
        }
      } catch (InvalidProtocolBufferException e) {
        if (body.truncated) {
          throw truncated(length, e);
        }
        throw malformed(start, "not a WorkResponse: " + e.getMessage(), e);
      }
      if (body.truncated) {
        throw truncated(length, null);
      }
      return response.build();
    }

    /** The varint32 length prefix, or -1 at a clean end of the stream. */
    private int readLength(long start) throws IOException, MalformedResponseException {
      long value = 0;
      for (int i = 0; i < 5; i++) {
        int b = in.read();
        if (b < 0) {
          if (i == 0) {
            return -1;
          }
          throw new EOFException("the stream ended inside the length of a response");
        }
        value |= (long) (b & 0x7f) << (7 * i);
        if ((b & 0x80) == 0) {
          if (value > MAX_RESPONSE_BYTES) {
            throw malformed(
                start,
                String.format(
                    "the length prefix announces a response of %d bytes, over the limit of %d MiB",
                    value, MAX_RESPONSE_BYTES >> 20),
                null);
          }
          return (int) value;
        }
      }
      throw malformed(start, "the length prefix is longer than a varint32", null);
    }

    private MalformedResponseException malformed(long start, String problem, Throwable cause) {
      return new MalformedResponseException(problem, in.quote(start, QUOTE_BYTES), cause);
    }

    private static EOFException truncated(int length, Throwable cause) {
      EOFException e =
          new EOFException("the stream ended inside a response announced as " + length + " bytes");
      e.initCause(cause);
      return e;
    }
  }

  /** The bytes of one message: at most its announced length, noting a premature end. */
  private static final class Body extends InputStream {
    private final InputStream in;
    private int remaining;
    boolean truncated;

    Body(InputStream in, int length) {
      this.in = in;
      this.remaining = length;
    }

    @Override
    public int read() throws IOException {
      if (remaining == 0) {
        return -1;
      }
      int b = in.read();
      if (b < 0) {
        truncated = true;
        return -1;
      }
      remaining--;
      return b;
    }

    @Override
    public int read(byte[] buffer, int offset, int length) throws IOException {
      if (length == 0) {
        return 0;
      }
      if (remaining == 0) {
        return -1;
      }
      int n = in.read(buffer, offset, Math.min(length, remaining));
      if (n < 0) {
        truncated = true;
        return -1;
      }
      remaining -= n;
      return n;
    }
  }
}
