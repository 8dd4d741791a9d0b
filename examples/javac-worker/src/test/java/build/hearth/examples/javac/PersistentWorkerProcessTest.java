package build.hearth.examples.javac;

import static org.assertj.core.api.Assertions.assertThat;

import build.hearth.proto.worker.WorkRequest;
import build.hearth.proto.worker.WorkResponse;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The persistent worker as Bazel runs it: its own JVM with {@code --persistent_worker}, requests on
 * its stdin and responses on its stdout, in both encodings. Each test also rewrites a classpath jar
 * at the same path between two requests, which a worker caching its file manager would read stale.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class PersistentWorkerProcessTest {
  @TempDir Path dir;

  @Test
  void protoWorkerServesRequestsUntilItsInputEnds() throws IOException {
    try (WorkerJvm worker = WorkerJvm.start(dir, "--persistent_worker")) {
      OutputStream in = worker.process().getOutputStream();
      InputStream out = worker.process().getInputStream();
      for (Step step : steps()) {
        WorkRequest.newBuilder().addAllArguments(step.arguments).build().writeDelimitedTo(in);
        in.flush();
        WorkResponse response = WorkResponse.parseDelimitedFrom(out);
        assertThat(response).as("a response to %s; %s", step.name, worker.stderr()).isNotNull();
        assertThat(response.getExitCode())
            .as("%s: %s", step.name, response.getOutput())
            .isEqualTo(step.exitCode);
        assertThat(response.getOutput()).contains(step.output);
      }
      in.close();
      assertThat(worker.waitFor()).as(worker.stderr()).isZero();
      assertThat(out.read()).as("nothing but responses on stdout").isEqualTo(-1);
    }
  }

  @Test
  void jsonWorkerReadsBackToBackObjectsAndAnswersOnePerLine() throws IOException {
    try (WorkerJvm worker = WorkerJvm.start(dir, "--protocol=json", "--persistent_worker")) {
      OutputStream in = worker.process().getOutputStream();
      BufferedReader out =
          new BufferedReader(
              new InputStreamReader(worker.process().getInputStream(), StandardCharsets.UTF_8));
      List<Step> steps = steps();
      for (int i = 0; i < steps.size(); i++) {
        Step step = steps.get(i);
        // No separator between requests, as Bazel writes them. Every other request is singleplex
        // and compact, as from Bazel (no requestId: 0 is the default); the others are spread over
        // lines and use the snake_case names that proto3 JSON also allows.
        boolean spread = i % 2 == 1;
        int requestId = spread ? i + 1 : 0;
        in.write(jsonRequest(step.arguments, requestId, spread));
        in.flush();
        String line = out.readLine();
        assertThat(line).as("a response to %s; %s", step.name, worker.stderr()).isNotNull();
        Map<String, Object> response = parseObject(line);
        assertThat(response.get("exitCode")).as("%s: %s", step.name, line).isEqualTo(step.exitCode);
        assertThat((String) response.get("output")).contains(step.output);
        assertThat(response.get("requestId")).isEqualTo(requestId);
        assertThat(response).doesNotContainKey("wasCancelled");
      }
      in.close();
      assertThat(worker.waitFor()).as(worker.stderr()).isZero();
      assertThat(out.readLine()).as("nothing but responses on stdout").isNull();
    }
  }

  @Test
  void malformedJsonStopsTheWorkerWithAClearMessage() throws IOException {
    try (WorkerJvm worker = WorkerJvm.start(dir, "--protocol=json", "--persistent_worker")) {
      OutputStream in = worker.process().getOutputStream();
      in.write("[\"not a request\"]".getBytes(StandardCharsets.UTF_8));
      in.close();
      assertThat(worker.waitFor()).isEqualTo(3);
      assertThat(worker.stderr())
          .contains("malformed JSON work request: expected the start of a WorkRequest object");
    }
  }

  @Test
  void unexpectedStartupArgumentsAreRefused() {
    try (WorkerJvm worker = WorkerJvm.start(dir, "--persistent_worker", "--source", "A.java")) {
      assertThat(worker.waitFor()).isEqualTo(2);
      assertThat(worker.stderr()).contains("unexpected startup arguments [--source, A.java]");
    }
  }

  /** One request and what its answer must be. */
  private record Step(String name, List<String> arguments, int exitCode, String output) {}

  /**
   * Compiles a library, a user of it, the library again with a different method into the same jar
   * path, and a user of the new method; then a broken source. Every answer must be fresh.
   */
  private List<Step> steps() {
    Path lib = dir.resolve("out/lib.jar");
    Path v1 =
        source(
            "v1/lib/Lib.java",
            "package lib;\npublic class Lib { public static int one() { return 1; } }\n");
    Path v2 =
        source(
            "v2/lib/Lib.java",
            "package lib;\npublic class Lib { public static int two() { return 2; } }\n");
    Path user1 = source("u1/app/U1.java", "package app;\nclass U1 { int x = lib.Lib.one(); }\n");
    Path user2 = source("u2/app/U2.java", "package app;\nclass U2 { int x = lib.Lib.two(); }\n");
    Path broken =
        source("bad/app/Bad.java", "package app;\nclass Bad { int x = lib.Lib.one(); }\n");
    return List.of(
        new Step("lib v1", Sources.arguments(lib, List.of(), v1), 0, ""),
        new Step(
            "user of v1", Sources.arguments(dir.resolve("out/u1.jar"), List.of(lib), user1), 0, ""),
        new Step("lib v2", Sources.arguments(lib, List.of(), v2), 0, ""),
        new Step(
            "user of v2", Sources.arguments(dir.resolve("out/u2.jar"), List.of(lib), user2), 0, ""),
        new Step(
            "stale user of v1",
            Sources.arguments(dir.resolve("out/bad.jar"), List.of(lib), broken),
            1,
            "Bad.java:2: error: cannot find symbol"));
  }

  private Path source(String relative, String content) {
    return Sources.write(dir, "src/" + relative, content);
  }

  private static byte[] jsonRequest(List<String> arguments, int requestId, boolean spread)
      throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (JsonGenerator json = new JsonFactory().createGenerator(bytes)) {
      if (spread) {
        json.useDefaultPrettyPrinter();
      }
      json.writeStartObject();
      json.writeArrayFieldStart("arguments");
      for (String argument : arguments) {
        json.writeString(argument);
      }
      json.writeEndArray();
      json.writeArrayFieldStart("inputs");
      json.writeStartObject();
      json.writeStringField("path", "some/input.java");
      // "abc" as base64, as proto3 JSON writes bytes.
      json.writeStringField("digest", "YWJj");
      json.writeEndObject();
      json.writeEndArray();
      if (requestId != 0) {
        json.writeNumberField(spread ? "request_id" : "requestId", requestId);
      }
      json.writeNumberField("verbosity", 0);
      json.writeStringField("aFieldFromTheFuture", "ignored");
      json.writeEndObject();
    }
    return bytes.toByteArray();
  }

  /** A flat JSON object as a map of its scalar fields. */
  private static Map<String, Object> parseObject(String line) throws IOException {
    Map<String, Object> fields = new HashMap<>();
    try (JsonParser parser = new JsonFactory().createParser(line)) {
      assertThat(parser.nextToken()).isEqualTo(JsonToken.START_OBJECT);
      while (parser.nextToken() == JsonToken.FIELD_NAME) {
        String name = parser.currentName();
        JsonToken value = parser.nextToken();
        fields.put(
            name,
            switch (value) {
              case VALUE_NUMBER_INT -> parser.getIntValue();
              case VALUE_TRUE, VALUE_FALSE -> parser.getBooleanValue();
              default -> parser.getText();
            });
      }
      assertThat(parser.nextToken()).as("one object per line").isNull();
    }
    return fields;
  }
}
