package build.hearth.grpc.bytestream;

import com.google.bytestream.ByteStreamProto.WriteRequest;
import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;

/**
 * Parses a WriteRequest from a view of the transport's receive buffers, leaving {@code data} a view
 * of the same buffers even where it crosses from one buffer into the next.
 *
 * <p>protobuf's own aliasing parser copies a {@code bytes} field into a new array whenever it spans
 * two of its input buffers, which for Bazel's 16 KiB chunks is about one WriteRequest in four; and
 * building its decoder over a rope costs more per message than the four fields it then reads. This
 * walks the fields itself: the few header bytes are read one at a time, the data is cut out of the
 * view with {@link ByteString#substring}, which shares the buffers. It accepts what protobuf
 * accepts: fields in any order, the last occurrence of a field winning, a known field number with
 * another wire type or an unknown field skipped (groups included), and refuses what it refuses
 * (truncation, tag zero, wire types 6 and 7, an unmatched end-group, a resource_name that is not
 * UTF-8) with {@link InvalidProtocolBufferException}. Unknown fields are dropped, not kept: the
 * service never reads them.
 */
final class WriteRequestParser {
  private static final int RESOURCE_NAME = WriteRequest.RESOURCE_NAME_FIELD_NUMBER;
  private static final int WRITE_OFFSET = WriteRequest.WRITE_OFFSET_FIELD_NUMBER;
  private static final int FINISH_WRITE = WriteRequest.FINISH_WRITE_FIELD_NUMBER;
  private static final int DATA = WriteRequest.DATA_FIELD_NUMBER;

  private static final int VARINT = 0;
  private static final int FIXED64 = 1;
  private static final int LENGTH_DELIMITED = 2;
  private static final int START_GROUP = 3;
  private static final int END_GROUP = 4;
  private static final int FIXED32 = 5;

  /** protobuf's own limit on nested groups, so a hostile message cannot exhaust the stack. */
  private static final int MAX_GROUP_DEPTH = 100;

  private final ByteString in;
  private final int end;
  private int pos;

  private WriteRequestParser(ByteString in) {
    this.in = in;
    this.end = in.size();
  }

  /**
   * The WriteRequest in {@code view}; its {@code data} shares {@code view}'s buffers, so it is
   * valid only as long as they are.
   *
   * @throws InvalidProtocolBufferException if {@code view} is not a WriteRequest
   */
  static WriteRequest parse(ByteString view) throws InvalidProtocolBufferException {
    return new WriteRequestParser(view).request();
  }

  private WriteRequest request() throws InvalidProtocolBufferException {
    ByteString name = null;
    long offset = 0;
    boolean finish = false;
    ByteString data = ByteString.EMPTY;
    while (pos < end) {
      int tag = readTag();
      int field = tag >>> 3;
      int wireType = tag & 7;
      if (field == DATA && wireType == LENGTH_DELIMITED) {
        data = readLengthDelimited();
      } else if (field == WRITE_OFFSET && wireType == VARINT) {
        offset = readVarint64();
      } else if (field == FINISH_WRITE && wireType == VARINT) {
        finish = readVarint64() != 0;
      } else if (field == RESOURCE_NAME && wireType == LENGTH_DELIMITED) {
        name = readLengthDelimited();
        if (!name.isValidUtf8()) {
          throw new InvalidProtocolBufferException(
              "Protocol message had invalid UTF-8 in field resource_name.");
        }
      } else if (wireType == END_GROUP) {
        throw new InvalidProtocolBufferException(
            "Protocol message end-group tag did not match expected tag.");
      } else {
        skipField(tag, 0);
      }
    }
    WriteRequest.Builder request =
        WriteRequest.newBuilder().setWriteOffset(offset).setFinishWrite(finish).setData(data);
    if (name != null) {
      request.setResourceName(name.toStringUtf8());
    }
    return request.build();
  }

  private int readTag() throws InvalidProtocolBufferException {
    int tag = (int) readVarint64();
    if (tag >>> 3 == 0) {
      throw new InvalidProtocolBufferException("Protocol message contained an invalid tag (zero).");
    }
    return tag;
  }

  private void skipField(int tag, int depth) throws InvalidProtocolBufferException {
    switch (tag & 7) {
      case VARINT -> readVarint64();
      case FIXED64 -> skip(8);
      case LENGTH_DELIMITED -> readLengthDelimited();
      case FIXED32 -> skip(4);
      case START_GROUP -> {
        if (depth >= MAX_GROUP_DEPTH) {
          throw new InvalidProtocolBufferException(
              "Protocol message had too many levels of nesting.");
        }
        int endTag = (tag & ~7) | END_GROUP;
        while (true) {
          if (pos >= end) {
            throw truncated();
          }
          int inner = readTag();
          if (inner == endTag) {
            return;
          }
          if ((inner & 7) == END_GROUP) {
            throw new InvalidProtocolBufferException(
                "Protocol message end-group tag did not match expected tag.");
          }
          skipField(inner, depth + 1);
        }
      }
      default ->
          throw new InvalidProtocolBufferException("Protocol message tag had invalid wire type.");
    }
  }

  private ByteString readLengthDelimited() throws InvalidProtocolBufferException {
    long length = readVarint64();
    if (length < 0 || length > Integer.MAX_VALUE) {
      throw new InvalidProtocolBufferException(
          "CodedInputStream encountered an embedded string or message which claimed to have"
              + " negative size.");
    }
    int start = pos;
    skip((int) length);
    return in.substring(start, pos);
  }

  private void skip(int bytes) throws InvalidProtocolBufferException {
    if (bytes > end - pos) {
      throw truncated();
    }
    pos += bytes;
  }

  private long readVarint64() throws InvalidProtocolBufferException {
    long result = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos >= end) {
        throw truncated();
      }
      byte b = in.byteAt(pos++);
      result |= (long) (b & 0x7F) << shift;
      if ((b & 0x80) == 0) {
        return result;
      }
    }
    throw new InvalidProtocolBufferException("CodedInputStream encountered a malformed varint.");
  }

  private static InvalidProtocolBufferException truncated() {
    return new InvalidProtocolBufferException(
        "While parsing a protocol message, the input ended unexpectedly in the middle of a field.");
  }
}
