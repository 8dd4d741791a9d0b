package build.hearth.core.persistent;

import build.hearth.api.ToolProtocol;
import build.hearth.proto.worker.Input;
import build.hearth.proto.worker.WorkRequest;
import build.hearth.proto.worker.WorkResponse;
import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.io.JsonEOFException;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Base64;
import java.util.HashSet;
import java.util.Set;

/**
 * {@link ToolProtocol#JSON}: proto3 JSON, as Bazel's worker strategy speaks it.
 *
 * <p>Requests are written as Bazel writes them with protobuf's {@code JsonFormat} printer:
 * camelCase names, fields at their default value left out, and {@code Input.digest} (a {@code
 * bytes} field holding the hex digest as UTF-8) in base64, as proto3 JSON encodes every {@code
 * bytes} field. A newline follows each request, for tools that read line by line.
 *
 * <p>Responses are read with a streaming parser, not by lines: one object may span several lines,
 * and several may share one. Both the camelCase and the original field names are accepted, as
 * proto3 JSON parsers must; unknown fields are skipped; a value of the wrong type, a repeated
 * field, or anything but an object at the top level is an error.
 *
 * <p>Encoding is thread-safe; a reader is used by one thread.
 */
final class JsonMessageCodec implements ToolMessageCodec {
  private final JsonFactory factory = JsonFactory.builder().build();

  @Override
  public byte[] encode(WorkRequest request) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
    try (JsonGenerator json = factory.createGenerator(bytes, JsonEncoding.UTF8)) {
      json.writeStartObject();
      if (request.getArgumentsCount() > 0) {
        json.writeArrayFieldStart("arguments");
        for (String argument : request.getArgumentsList()) {
          json.writeString(argument);
        }
        json.writeEndArray();
      }
      if (request.getInputsCount() > 0) {
        json.writeArrayFieldStart("inputs");
        for (Input input : request.getInputsList()) {
          json.writeStartObject();
          if (!input.getPath().isEmpty()) {
            json.writeStringField("path", input.getPath());
          }
          if (!input.getDigest().isEmpty()) {
            json.writeStringField(
                "digest", Base64.getEncoder().encodeToString(input.getDigest().toByteArray()));
          }
          json.writeEndObject();
        }
        json.writeEndArray();
      }
      if (request.getRequestId() != 0) {
        json.writeNumberField("requestId", request.getRequestId());
      }
      if (request.getCancel()) {
        json.writeBooleanField("cancel", true);
      }
      if (request.getVerbosity() != 0) {
        json.writeNumberField("verbosity", request.getVerbosity());
      }
      if (!request.getSandboxDir().isEmpty()) {
        json.writeStringField("sandboxDir", request.getSandboxDir());
      }
      json.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException("a ByteArrayOutputStream does not fail", e);
    }
    bytes.write('\n');
    return bytes.toByteArray();
  }

  @Override
  public ResponseReader reader(InputStream stdout) {
    RecordingInputStream recording = new RecordingInputStream(stdout, RECORDED_BYTES);
    try {
      return new Reader(recording, factory.createParser(recording));
    } catch (IOException e) {
      // Creating a parser over a stream reads nothing yet.
      throw new UncheckedIOException(e);
    }
  }

  private static final class Reader implements ResponseReader {
    private final RecordingInputStream in;
    private final JsonParser parser;

    /** Where the previous response ended, in bytes from the start of the stream. */
    private long end;

    Reader(RecordingInputStream in, JsonParser parser) {
      this.in = in;
      this.parser = parser;
    }

    @Override
    public WorkResponse next() throws IOException, MalformedResponseException {
      try {
        return parse();
      } catch (JsonEOFException e) {
        EOFException eof = new EOFException("the stream ended inside a response");
        eof.initCause(e);
        throw eof;
      } catch (JsonProcessingException e) {
        throw malformed("not JSON: " + e.getOriginalMessage(), e);
      }
    }

    private WorkResponse parse() throws IOException, MalformedResponseException {
      JsonToken token = parser.nextToken();
      if (token == null) {
        return null;
      }
      if (token != JsonToken.START_OBJECT) {
        throw malformed("a JSON object was expected, found " + describe(token), null);
      }
      WorkResponse.Builder response = WorkResponse.newBuilder();
      Set<String> seen = new HashSet<>();
      while ((token = parser.nextToken()) == JsonToken.FIELD_NAME) {
        String name = parser.currentName();
        parser.nextToken();
        String field =
            switch (name) {
              case "exitCode", "exit_code" -> "exitCode";
              case "output" -> "output";
              case "requestId", "request_id" -> "requestId";
              case "wasCancelled", "was_cancelled" -> "wasCancelled";
              default -> null;
            };
        if (field == null) {
          parser.skipChildren();
          continue;
        }
        if (!seen.add(field)) {
          throw malformed("the field '" + field + "' appears twice in one response", null);
        }
        switch (field) {
          case "exitCode" -> response.setExitCode(readInt(field));
          case "output" -> response.setOutput(readString(field));
          case "requestId" -> response.setRequestId(readInt(field));
          default -> response.setWasCancelled(readBoolean(field));
        }
      }
      if (token != JsonToken.END_OBJECT) {
        throw malformed("a field name or '}' was expected, found " + describe(token), null);
      }
      end = parser.currentLocation().getByteOffset();
      return response.build();
    }

    private int readInt(String field) throws IOException, MalformedResponseException {
      JsonToken token = parser.currentToken();
      if (token == JsonToken.VALUE_NULL) {
        return 0;
      }
      if (token == JsonToken.VALUE_NUMBER_INT
          && parser.getNumberType() == JsonParser.NumberType.INT) {
        return parser.getIntValue();
      }
      if (token == JsonToken.VALUE_STRING) {
        // proto3 JSON allows an int32 as a string holding its decimal digits.
        try {
          return Integer.parseInt(parser.getText());
        } catch (NumberFormatException e) {
          // reported below
        }
      }
      throw malformed(
          "the field '" + field + "' must be a 32-bit integer, not " + describe(token), null);
    }

    private String readString(String field) throws IOException, MalformedResponseException {
      JsonToken token = parser.currentToken();
      if (token == JsonToken.VALUE_NULL) {
        return "";
      }
      if (token == JsonToken.VALUE_STRING) {
        return parser.getText();
      }
      throw malformed("the field '" + field + "' must be a string, not " + describe(token), null);
    }

    private boolean readBoolean(String field) throws IOException, MalformedResponseException {
      JsonToken token = parser.currentToken();
      if (token == JsonToken.VALUE_NULL || token == JsonToken.VALUE_FALSE) {
        return false;
      }
      if (token == JsonToken.VALUE_TRUE) {
        return true;
      }
      throw malformed(
          "the field '" + field + "' must be true or false, not " + describe(token), null);
    }

    private String describe(JsonToken token) throws IOException {
      if (token == null) {
        return "the end of the stream";
      }
      return switch (token) {
        case START_OBJECT -> "an object";
        case START_ARRAY -> "an array";
        case END_ARRAY, END_OBJECT -> "'" + token.asString() + "'";
        case VALUE_STRING -> "a string";
        case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "the number " + parser.getText();
        case VALUE_TRUE, VALUE_FALSE, VALUE_NULL -> token.asString();
        default -> token.name();
      };
    }

    private MalformedResponseException malformed(String problem, Throwable cause) {
      return new MalformedResponseException(problem, in.quote(end, QUOTE_BYTES), cause);
    }
  }
}
