package build.hearth.grpc.bytestream;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.bytestream.ByteStreamProto.WriteRequest;
import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import io.grpc.internal.CompositeReadableBuffer;
import io.grpc.internal.ReadableBuffers;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link InboundWriteMarshaller} over direct receive buffers, as the Netty transport lends them:
 * the data stays a view of them (also across a buffer boundary), and every message parses to what
 * protobuf's own {@code parseFrom(byte[])} makes of the same bytes, or fails where it fails (a
 * stray end-group tag included, at which a parse from a {@code CodedInputStream} stops silently).
 */
class InboundWriteMarshallerTest {
  private final InboundWriteMarshaller marshaller = new InboundWriteMarshaller();

  /** The bytes cut into direct buffers at {@code cuts}, as the transport's stream of them. */
  private static InputStream lent(byte[] bytes, int... cuts) {
    CompositeReadableBuffer composite = new CompositeReadableBuffer();
    int from = 0;
    for (int cut : cuts) {
      composite.addBuffer(ReadableBuffers.wrap(direct(bytes, from, cut)));
      from = cut;
    }
    composite.addBuffer(ReadableBuffers.wrap(direct(bytes, from, bytes.length)));
    return ReadableBuffers.openStream(composite, true);
  }

  private static ByteBuffer direct(byte[] bytes, int from, int to) {
    ByteBuffer buffer = ByteBuffer.allocateDirect(to - from);
    buffer.put(bytes, from, to - from).flip();
    return buffer;
  }

  @Test
  void dataSpanningTwoReceiveBuffersIsNotCopied() {
    byte[] data = new byte[16 * 1024];
    new Random(1).nextBytes(data);
    byte[] bytes =
        WriteRequest.newBuilder()
            .setWriteOffset(32768)
            .setData(ByteString.copyFrom(data))
            .build()
            .toByteArray();

    try (InboundWrite write = marshaller.parse(lent(bytes, bytes.length / 2))) {
      assertThat(write.malformed()).isNull();
      ByteString parsed = write.request().getData();
      assertThat(parsed.toByteArray()).isEqualTo(data);
      // A copy would be a heap array; a view is the receive buffers themselves.
      assertThat(parsed.asReadOnlyByteBufferList()).hasSize(2).allMatch(ByteBuffer::isDirect);
      assertThat(write.request().getWriteOffset()).isEqualTo(32768);
    }
  }

  @Test
  void parsesWhatProtobufParsesWhereverTheBuffersAreCut() throws IOException {
    Random random = new Random(18);
    for (int i = 0; i < 500; i++) {
      byte[] bytes = randomMessage(random);
      int[] cuts = randomCuts(random, bytes.length);
      WriteRequest expected = WriteRequest.parseFrom(bytes);
      try (InboundWrite write = marshaller.parse(lent(bytes, cuts))) {
        assertThat(write.malformed()).as("message %d", i).isNull();
        assertThat(write.request().getResourceName()).isEqualTo(expected.getResourceName());
        assertThat(write.request().getWriteOffset()).isEqualTo(expected.getWriteOffset());
        assertThat(write.request().getFinishWrite()).isEqualTo(expected.getFinishWrite());
        assertThat(write.request().getData()).isEqualTo(expected.getData());
      }
    }
  }

  @Test
  void refusesWhatProtobufRefuses() throws IOException {
    Random random = new Random(19);
    for (int i = 0; i < 200; i++) {
      byte[] whole = randomMessage(random);
      byte[] bytes = java.util.Arrays.copyOf(whole, random.nextInt(whole.length + 1));
      if (random.nextInt(4) == 0 && bytes.length > 0) {
        bytes[random.nextInt(bytes.length)] = (byte) random.nextInt(256);
      }
      boolean protobufRefuses;
      try {
        WriteRequest.parseFrom(bytes);
        protobufRefuses = false;
      } catch (InvalidProtocolBufferException e) {
        protobufRefuses = true;
      }
      try (InboundWrite write = marshaller.parse(lent(bytes, randomCuts(random, bytes.length)))) {
        assertThat(write.malformed() != null)
            .as("message %d refused", i)
            .isEqualTo(protobufRefuses);
      }
    }
  }

  @Test
  void refusesAResourceNameThatIsNotUtf8() throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    CodedOutputStream coded = CodedOutputStream.newInstance(out);
    coded.writeByteArray(WriteRequest.RESOURCE_NAME_FIELD_NUMBER, new byte[] {'a', (byte) 0xC3});
    coded.flush();

    try (InboundWrite write = marshaller.parse(lent(out.toByteArray()))) {
      assertThat(write.malformed()).contains("UTF-8");
    }
  }

  /**
   * A WriteRequest's fields in random order, some twice, some with another wire type, with unknown
   * fields (groups among them) between them.
   */
  private static byte[] randomMessage(Random random) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    CodedOutputStream coded = CodedOutputStream.newInstance(out);
    int fields = random.nextInt(7);
    for (int f = 0; f < fields; f++) {
      switch (random.nextInt(8)) {
        case 0 ->
            coded.writeString(
                WriteRequest.RESOURCE_NAME_FIELD_NUMBER,
                "instance/uploads/" + random.nextInt(1000) + "/blobs/\u00e9/" + random.nextInt());
        case 1 -> coded.writeInt64(WriteRequest.WRITE_OFFSET_FIELD_NUMBER, random.nextLong());
        case 2 -> coded.writeBool(WriteRequest.FINISH_WRITE_FIELD_NUMBER, random.nextBoolean());
        case 3, 4 -> {
          byte[] data = new byte[random.nextInt(3) == 0 ? random.nextInt(40_000) : 17];
          random.nextBytes(data);
          coded.writeByteArray(WriteRequest.DATA_FIELD_NUMBER, data);
        }
        case 5 -> coded.writeFixed64(WriteRequest.WRITE_OFFSET_FIELD_NUMBER, random.nextLong());
        case 6 -> {
          coded.writeTag(7 + random.nextInt(20), 3); // start group
          coded.writeFixed32(99, random.nextInt());
          coded.writeString(98, "inside a group");
        }
        default -> coded.writeBytes(11 + random.nextInt(5), ByteString.copyFromUtf8("unknown"));
      }
      if (random.nextInt(10) == 0) {
        coded.writeString(50, "xxx");
      }
    }
    coded.flush();
    byte[] bytes = out.toByteArray();
    // Close any group opened above, so that the message is well formed.
    return closeGroups(bytes);
  }

  /** Appends the end-group tags the groups opened in {@link #randomMessage} still need. */
  private static byte[] closeGroups(byte[] bytes) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(bytes);
    com.google.protobuf.CodedInputStream in =
        com.google.protobuf.CodedInputStream.newInstance(bytes);
    java.util.ArrayDeque<Integer> open = new java.util.ArrayDeque<>();
    while (!in.isAtEnd()) {
      int tag = in.readTag();
      if ((tag & 7) == 3) {
        open.push(tag >>> 3);
      } else {
        in.skipField(tag);
      }
    }
    CodedOutputStream coded = CodedOutputStream.newInstance(out);
    while (!open.isEmpty()) {
      coded.writeTag(open.pop(), 4);
    }
    coded.flush();
    return out.toByteArray();
  }

  private static int[] randomCuts(Random random, int length) {
    if (length < 2) {
      return new int[0];
    }
    return random.ints(random.nextInt(4), 1, length).sorted().distinct().toArray();
  }
}
