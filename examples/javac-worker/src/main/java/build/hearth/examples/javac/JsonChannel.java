package build.hearth.examples.javac;

import build.hearth.proto.worker.Input;
import build.hearth.proto.worker.WorkRequest;
import build.hearth.proto.worker.WorkResponse;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.google.protobuf.ByteString;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * The JSON encoding: proto3 JSON objects with camelCase names. Requests are read with a streaming
 * parser, object by object, because a client may send them back to back without any separator
 * (Bazel does) or spread one over many lines. Each response is written as one object followed by a
 * newline.
 *
 * <p>Responses always carry {@code exitCode}, {@code output} and {@code requestId}, even at their
 * default values, which proto3 JSON would leave out: Bazel 4.2 reads responses with a lenient Gson
 * reader that waits for five characters before its first value, so a bare {@code {}} (success, no
 * diagnostics, singleplex) would never be read. {@code wasCancelled} is written only when true, so
 * readers that predate it never see it on ordinary responses.
 */
final class JsonChannel implements WorkerChannel {
  private final JsonParser parser;
  private final JsonGenerator generator;

  JsonChannel(InputStream in, OutputStream out) {
    JsonFactory factory = new JsonFactory();
    try {
      // A reader, not the stream: Jackson would otherwise sniff the encoding by reading ahead four
      // bytes, and block on a first request shorter than that ("{}").
      this.parser = factory.createParser(new InputStreamReader(in, StandardCharsets.UTF_8));
      this.generator = factory.createGenerator(out);
    } catch (IOException e) {
      throw new IllegalStateException("cannot set up JSON on stdin/stdout", e);
    }
    // Jackson separates top-level values with a space by default; the newline below is enough.
    generator.setRootValueSeparator(null);
  }

  @Override
  public WorkRequest read() throws IOException {
    JsonToken token = parser.nextToken();
    if (token == null) {
      return null;
    }
    if (token != JsonToken.START_OBJECT) {
      throw unexpected("the start of a WorkRequest object");
    }
    WorkRequest.Builder request = WorkRequest.newBuilder();
    while (parser.nextToken() == JsonToken.FIELD_NAME) {
      String name = parser.currentName();
      JsonToken value = parser.nextToken();
      if (value == JsonToken.VALUE_NULL) {
        continue; // proto3 JSON: null means the default value
      }
      // Proto3 JSON parsers accept the original snake_case names too.
      switch (name) {
        case "arguments" -> {
          expectArray();
          while (parser.nextToken() != JsonToken.END_ARRAY) {
            request.addArguments(string());
          }
        }
        case "inputs" -> {
          expectArray();
          while (parser.nextToken() != JsonToken.END_ARRAY) {
            request.addInputs(input());
          }
        }
        case "requestId", "request_id" -> request.setRequestId(integer());
        case "cancel" -> request.setCancel(bool());
        case "verbosity" -> request.setVerbosity(integer());
        case "sandboxDir", "sandbox_dir" -> request.setSandboxDir(string());
        default -> parser.skipChildren(); // a field of a newer protocol version
      }
    }
    if (parser.currentToken() != JsonToken.END_OBJECT) {
      throw unexpected("a field name or the end of the WorkRequest object");
    }
    return request.build();
  }

  private Input input() throws IOException {
    if (parser.currentToken() != JsonToken.START_OBJECT) {
      throw unexpected("an Input object");
    }
    Input.Builder input = Input.newBuilder();
    while (parser.nextToken() == JsonToken.FIELD_NAME) {
      String name = parser.currentName();
      if (parser.nextToken() == JsonToken.VALUE_NULL) {
        continue;
      }
      switch (name) {
        case "path" -> input.setPath(string());
        case "digest" -> input.setDigest(bytes());
        default -> parser.skipChildren();
      }
    }
    return input.build();
  }

  private void expectArray() throws IOException {
    if (parser.currentToken() != JsonToken.START_ARRAY) {
      throw unexpected("an array");
    }
  }

  private String string() throws IOException {
    if (parser.currentToken() != JsonToken.VALUE_STRING) {
      throw unexpected("a string");
    }
    return parser.getText();
  }

  /** Proto3 JSON allows 32-bit integers as numbers or as strings. */
  private int integer() throws IOException {
    JsonToken token = parser.currentToken();
    if (token == JsonToken.VALUE_NUMBER_INT) {
      return parser.getIntValue();
    }
    if (token == JsonToken.VALUE_STRING) {
      try {
        return Integer.parseInt(parser.getText());
      } catch (NumberFormatException e) {
        throw unexpected("an integer");
      }
    }
    throw unexpected("an integer");
  }

  private boolean bool() throws IOException {
    JsonToken token = parser.currentToken();
    if (token == JsonToken.VALUE_TRUE || token == JsonToken.VALUE_FALSE) {
      return parser.getBooleanValue();
    }
    throw unexpected("true or false");
  }

  /** Proto3 JSON writes bytes as base64, standard or URL-safe, padded or not. */
  private ByteString bytes() throws IOException {
    String text = string();
    boolean urlSafe = text.indexOf('-') >= 0 || text.indexOf('_') >= 0;
    try {
      return ByteString.copyFrom(
          (urlSafe ? Base64.getUrlDecoder() : Base64.getDecoder()).decode(text));
    } catch (IllegalArgumentException e) {
      throw unexpected("base64 bytes");
    }
  }

  private IOException unexpected(String expected) {
    return new IOException(
        "malformed JSON work request: expected "
            + expected
            + " but found "
            + parser.currentToken()
            + " at "
            + parser.currentLocation().offsetDescription());
  }

  @Override
  public void write(WorkResponse response) throws IOException {
    generator.writeStartObject();
    generator.writeNumberField("exitCode", response.getExitCode());
    generator.writeStringField("output", response.getOutput());
    generator.writeNumberField("requestId", response.getRequestId());
    if (response.getWasCancelled()) {
      generator.writeBooleanField("wasCancelled", true);
    }
    generator.writeEndObject();
    generator.writeRaw('\n');
    generator.flush();
  }
}
