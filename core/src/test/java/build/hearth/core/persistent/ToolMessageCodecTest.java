package build.hearth.core.persistent;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import build.hearth.api.ToolProtocol;
import build.hearth.core.persistent.ToolMessageCodec.ResponseReader;
import build.hearth.proto.worker.Input;
import build.hearth.proto.worker.WorkRequest;
import build.hearth.proto.worker.WorkResponse;
import com.google.protobuf.ByteString;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** Framing of requests and responses in both protocols, without processes. */
class ToolMessageCodecTest {

  private static final WorkRequest FULL_REQUEST =
      WorkRequest.newBuilder()
          .addArguments("-d")
          .addArguments("out dir/ünï \"quoted\"")
          .addInputs(
              Input.newBuilder().setPath("src/A.java").setDigest(ByteString.copyFromUtf8("0a1b2c")))
          .addInputs(Input.newBuilder().setPath("no/digest"))
          .setRequestId(42)
          .setVerbosity(10)
          .setSandboxDir("sandbox/42")
          .build();

  /** Hands out at most one byte per read, as a slow pipe might. */
  private static InputStream trickle(byte[] bytes) {
    return new ByteArrayInputStream(bytes) {
      @Override
      public synchronized int read(byte[] buffer, int offset, int length) {
        return super.read(buffer, offset, Math.min(length, 1));
      }
    };
  }

  private static List<WorkResponse> readAll(ResponseReader reader)
      throws IOException, MalformedResponseException {
    List<WorkResponse> responses = new ArrayList<>();
    WorkResponse response;
    while ((response = reader.next()) != null) {
      responses.add(response);
    }
    return responses;
  }

  private static WorkResponse response(int exitCode, String output, int id, boolean cancelled) {
    return WorkResponse.newBuilder()
        .setExitCode(exitCode)
        .setOutput(output)
        .setRequestId(id)
        .setWasCancelled(cancelled)
        .build();
  }

  @Nested
  class Proto {
    private final ToolMessageCodec codec = ToolMessageCodec.of(ToolProtocol.PROTO);

    private byte[] delimited(WorkResponse... responses) throws IOException {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      for (WorkResponse response : responses) {
        response.writeDelimitedTo(bytes);
      }
      return bytes.toByteArray();
    }

    @Test
    void encodesARequestAsOneLengthDelimitedMessage() throws IOException {
      byte[] bytes = codec.encode(FULL_REQUEST);

      ByteArrayInputStream in = new ByteArrayInputStream(bytes);
      assertThat(WorkRequest.parseDelimitedFrom(in)).isEqualTo(FULL_REQUEST);
      assertThat(in.available()).isZero();
    }

    @Test
    void readsResponsesOneAfterTheOtherEvenByteByByte() throws Exception {
      WorkResponse first = response(0, "fine", 1, false);
      WorkResponse second = response(3, "línea 1\nline 2", 2, false);
      WorkResponse third = response(0, "", 3, true);
      byte[] bytes = delimited(first, second, WorkResponse.getDefaultInstance(), third);

      assertThat(readAll(codec.reader(new ByteArrayInputStream(bytes))))
          .containsExactly(first, second, WorkResponse.getDefaultInstance(), third);
      assertThat(readAll(codec.reader(trickle(bytes))))
          .containsExactly(first, second, WorkResponse.getDefaultInstance(), third);
    }

    @Test
    void anEmptyStreamEndsCleanly() throws Exception {
      assertThat(codec.reader(new ByteArrayInputStream(new byte[0])).next()).isNull();
    }

    @Test
    void aLineOfTextBeforeAResponseIsRefusedAtOnceAndQuoted() throws IOException {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      bytes.write("hello\n".getBytes(UTF_8));
      response(0, "ok", 0, false).writeDelimitedTo(bytes);

      // 'h' announces 104 bytes, far more than follow: the first field must give it away.
      assertThatThrownBy(() -> codec.reader(trickle(bytes.toByteArray())).next())
          .isInstanceOfSatisfying(
              MalformedResponseException.class,
              e -> {
                assertThat(e.problem()).contains("field 12").contains("not part of a WorkResponse");
                assertThat(e.quote()).isEqualTo("\"hello\\n\\x04\\x12\\x02ok\"");
              });
    }

    @Test
    void anAbsurdLengthIsRefusedWithoutAllocatingIt() {
      byte[] bytes = {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x0f, 'x'};

      assertThatThrownBy(() -> codec.reader(new ByteArrayInputStream(bytes)).next())
          .isInstanceOfSatisfying(
              MalformedResponseException.class,
              e -> {
                assertThat(e.problem()).contains("4294967295 bytes").contains("64 MiB");
                assertThat(e.quote()).isEqualTo("\"\\xff\\xff\\xff\\xff\\x0fx\"");
              });
    }

    @Test
    void aLengthLongerThanAVarint32IsRefused() {
      byte[] bytes = {(byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, 0x01};

      assertThatThrownBy(() -> codec.reader(new ByteArrayInputStream(bytes)).next())
          .isInstanceOf(MalformedResponseException.class)
          .hasMessageContaining("longer than a varint32");
    }

    @Test
    void aKnownFieldWithTheWrongWireTypeIsRefused() {
      // exit_code (field 1) as length-delimited: tag 0x0a.
      byte[] bytes = {3, 0x0a, 1, 'x'};

      assertThatThrownBy(() -> codec.reader(new ByteArrayInputStream(bytes)).next())
          .isInstanceOf(MalformedResponseException.class)
          .hasMessageContaining("field 1 with wire type 2");
    }

    @Test
    void invalidUtf8InTheOutputIsRefused() {
      byte[] bytes = {3, 0x12, 1, (byte) 0xc3};

      assertThatThrownBy(() -> codec.reader(new ByteArrayInputStream(bytes)).next())
          .isInstanceOf(MalformedResponseException.class)
          .hasMessageContaining("UTF-8");
    }

    @Test
    void aStreamEndingInsideAResponseIsAnEndOfFileNotAProtocolError() throws IOException {
      byte[] whole = delimited(response(1, "some output", 5, false));
      for (int cut = 1; cut < whole.length; cut++) {
        byte[] part = Arrays.copyOf(whole, cut);
        assertThatThrownBy(() -> codec.reader(new ByteArrayInputStream(part)).next())
            .as("cut after %d bytes", cut)
            .isInstanceOf(EOFException.class);
      }
    }
  }

  @Nested
  class Json {
    private final ToolMessageCodec codec = ToolMessageCodec.of(ToolProtocol.JSON);

    private ResponseReader reader(String text) {
      return codec.reader(new ByteArrayInputStream(text.getBytes(UTF_8)));
    }

    @Test
    void encodesProto3JsonWithCamelCaseNamesAndBase64DigestsOnOneLine() {
      String json = new String(codec.encode(FULL_REQUEST), UTF_8);

      assertThat(json)
          .isEqualTo(
              "{\"arguments\":[\"-d\",\"out dir/ünï \\\"quoted\\\"\"],"
                  + "\"inputs\":[{\"path\":\"src/A.java\",\"digest\":\"MGExYjJj\"},"
                  + "{\"path\":\"no/digest\"}],"
                  + "\"requestId\":42,\"verbosity\":10,\"sandboxDir\":\"sandbox/42\"}\n");
    }

    @Test
    void leavesOutFieldsAtTheirDefaultValue() {
      assertThat(new String(codec.encode(WorkRequest.getDefaultInstance()), UTF_8))
          .isEqualTo("{}\n");
      assertThat(
              new String(
                  codec.encode(WorkRequest.newBuilder().setRequestId(7).setCancel(true).build()),
                  UTF_8))
          .isEqualTo("{\"requestId\":7,\"cancel\":true}\n");
    }

    @Test
    void readsObjectsThatSpanLinesOrShareOneEvenByteByByte() throws Exception {
      String text =
          "{\"exitCode\":1,\"output\":\"a\\nb\",\"requestId\":3}{\"requestId\":4}\n"
              + "{\n  \"exitCode\"\n  :\n  2,\n  \"wasCancelled\": true\n}\n  \n";
      List<WorkResponse> expected =
          List.of(
              response(1, "a\nb", 3, false), response(0, "", 4, false), response(2, "", 0, true));

      assertThat(readAll(reader(text))).isEqualTo(expected);
      assertThat(readAll(codec.reader(trickle(text.getBytes(UTF_8))))).isEqualTo(expected);
    }

    @Test
    void skipsUnknownFieldsWhateverTheirShape() throws Exception {
      String text =
          "{\"future\":{\"a\":[1,{\"b\":null}]},\"exitCode\":5,\"list\":[[],[]],\"n\":1.5,"
              + "\"output\":\"kept\"}";

      assertThat(reader(text).next()).isEqualTo(response(5, "kept", 0, false));
    }

    @Test
    void acceptsOriginalFieldNamesQuotedIntegersAndNulls() throws Exception {
      String text =
          "{\"exit_code\":\"-3\",\"request_id\":9,\"was_cancelled\":true,\"output\":null}";

      assertThat(reader(text).next()).isEqualTo(response(-3, "", 9, true));
    }

    @Test
    void anEmptyOrBlankStreamEndsCleanly() throws Exception {
      assertThat(reader("").next()).isNull();
      assertThat(reader(" \n\t\n").next()).isNull();
    }

    @Test
    void aLineOfTextBeforeAResponseIsAProtocolErrorQuotingIt() {
      assertThatThrownBy(() -> reader("hello\n{\"exitCode\":0}").next())
          .isInstanceOfSatisfying(
              MalformedResponseException.class,
              e -> {
                assertThat(e.problem()).startsWith("not JSON").contains("hello");
                assertThat(e.quote()).isEqualTo("\"hello\\n{\\\"exitCode\\\":0}\"");
              });
    }

    @Test
    void garbageAfterAGoodResponseIsQuotedFromWhereThatResponseEnded() throws Exception {
      ResponseReader reader = reader("{\"requestId\":1}\nWARNING: something\n");

      assertThat(reader.next()).isEqualTo(response(0, "", 1, false));
      assertThatThrownBy(reader::next)
          .isInstanceOfSatisfying(
              MalformedResponseException.class,
              e -> assertThat(e.quote()).isEqualTo("\"\\nWARNING: something\\n\""));
    }

    @Test
    void anythingButAnObjectAtTheTopIsRefused() {
      for (String text : List.of("42", "[{\"exitCode\":0}]", "\"text\"", "null", "true")) {
        assertThatThrownBy(() -> reader(text).next())
            .as(text)
            .isInstanceOf(MalformedResponseException.class)
            .hasMessageContaining("a JSON object was expected");
      }
    }

    @Test
    void valuesOfTheWrongTypeAreRefused() {
      assertThatThrownBy(() -> reader("{\"exitCode\":\"one\"}").next())
          .isInstanceOf(MalformedResponseException.class)
          .hasMessageContaining("'exitCode' must be a 32-bit integer, not a string");
      assertThatThrownBy(() -> reader("{\"exitCode\":1.5}").next())
          .isInstanceOf(MalformedResponseException.class)
          .hasMessageContaining("not the number 1.5");
      assertThatThrownBy(() -> reader("{\"requestId\":4294967296}").next())
          .isInstanceOf(MalformedResponseException.class)
          .hasMessageContaining("'requestId' must be a 32-bit integer");
      assertThatThrownBy(() -> reader("{\"output\":[\"a\"]}").next())
          .isInstanceOf(MalformedResponseException.class)
          .hasMessageContaining("'output' must be a string, not an array");
      assertThatThrownBy(() -> reader("{\"wasCancelled\":\"yes\"}").next())
          .isInstanceOf(MalformedResponseException.class)
          .hasMessageContaining("'wasCancelled' must be true or false");
    }

    @Test
    void aFieldGivenTwiceIsRefused() {
      assertThatThrownBy(() -> reader("{\"requestId\":1,\"request_id\":2}").next())
          .isInstanceOf(MalformedResponseException.class)
          .hasMessageContaining("'requestId' appears twice");
    }

    @Test
    void aStreamEndingInsideAnObjectIsAnEndOfFile() {
      assertThatThrownBy(() -> reader("{\"exitCode\":1,\"out").next())
          .isInstanceOf(EOFException.class);
      assertThatThrownBy(() -> reader("{\"exitCode\":1").next()).isInstanceOf(EOFException.class);
    }
  }

  @Nested
  class Quoting {
    @Test
    void escapesWhatDoesNotPrintAndBoundsTheQuote() throws IOException {
      byte[] bytes = new byte[300];
      for (int i = 0; i < bytes.length; i++) {
        bytes[i] = (byte) i;
      }
      RecordingInputStream in = new RecordingInputStream(new ByteArrayInputStream(bytes), 1024);
      in.readAllBytes();

      String quote = in.quote(0, 200);
      assertThat(quote)
          .startsWith("\"\\x00\\x01")
          .contains("\\t\\n")
          .contains(" !\\\"#")
          .contains("\\\\");
      assertThat(quote).endsWith("\\xc6\\xc7\"...");
      assertThat(in.quote(290, 200)).isEqualTo("\"\\\"#$%&'()*+\"");
    }

    @Test
    void marksBytesThatNoLongerFitTheRing() throws IOException {
      RecordingInputStream in =
          new RecordingInputStream(new ByteArrayInputStream("abcdefghij".getBytes(UTF_8)), 4);
      in.readAllBytes();

      assertThat(in.position()).isEqualTo(10);
      assertThat(in.quote(0, 200)).isEqualTo("...\"ghij\"");
      assertThat(in.quote(7, 2)).isEqualTo("\"hi\"...");
    }
  }
}
