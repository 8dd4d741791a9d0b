package build.hearth.core.persistent;

import build.hearth.proto.worker.Input;
import build.hearth.proto.worker.WorkRequest;
import build.hearth.proto.worker.WorkResponse;
import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.google.protobuf.ByteString;
import java.io.BufferedOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A persistent worker for tests, whose requests are tiny scripts. Start it with {@link
 * ScriptedTools#command}; its flags:
 *
 * <ul>
 *   <li>{@code --persistent_worker}: required, as for any Bazel worker;
 *   <li>{@code --protocol=json}: speak JSON (default: proto); JSON responses are pretty-printed
 *       over several lines, with no newline between one and the next;
 *   <li>{@code --multiplex}: answer requests concurrently, each on its own thread;
 *   <li>{@code --cancellable}: answer {@code cancel=true} (without it, cancel requests are
 *       ignored);
 *   <li>{@code --startup-stderr=TEXT}: write TEXT on stderr at start;
 *   <li>{@code --exit-at-start=N}: exit with code N before reading anything;
 *   <li>{@code --ignore-stdin-close}: keep running when stdin ends;
 *   <li>{@code --ignore-sigterm}: keep running on SIGTERM (a shutdown hook that never returns).
 * </ul>
 *
 * <p>A request's arguments are one command and its operands:
 *
 * <ul>
 *   <li>{@code echo WORDS...}: output the words, exit code 0;
 *   <li>{@code exit N}: exit code N;
 *   <li>{@code sleep-until-cancel}: answer only when a cancel for this id arrives, with {@code
 *       was_cancelled=true};
 *   <li>{@code garbage [TEXT]}: print a line that is not a response on stdout, then answer;
 *   <li>{@code crash}: write to stderr and halt with code 3 without answering;
 *   <li>{@code crash-once MARKER}, {@code garbage-once MARKER}: crash or print garbage only when
 *       the absolute path MARKER does not exist yet (creating it), else answer "recovered";
 *   <li>{@code exists PATH}: output yes or no; {@code overwrite PATH TEXT}: rewrite a file in place
 *       (same inode), making it writable first;
 *   <li>{@code wait-for PATH}: answer once the absolute path PATH exists;
 *   <li>several commands in one request are separated by a {@code ;} argument;
 *   <li>{@code write PATH TEXT}, {@code append PATH TEXT}, {@code read PATH}: files relative to the
 *       request's {@code sandbox_dir}, or to the working directory without one;
 *   <li>{@code allocate MIB}: allocate and touch that much memory, and keep it;
 *   <li>{@code inputs}: output one line {@code PATH DIGEST} per input, the digest as UTF-8 text;
 *   <li>{@code answer-as ID}: answer with request id ID instead of the request's own;
 *   <li>{@code pid}, {@code cwd}, {@code env NAME}, {@code describe}: facts about the process or
 *       the request;
 *   <li>{@code stderr TEXT}: write TEXT on stderr, then answer;
 *   <li>{@code spawn-child}: start {@code /bin/sleep 1000} and output its pid.
 * </ul>
 */
public final class ScriptedTool {
  private final boolean json;
  private final boolean cancellable;
  private final OutputStream out;
  private final Object writeLock = new Object();
  private final JsonFactory jsonFactory = new JsonFactory();
  private final ExecutorService handlers =
      Executors.newCachedThreadPool(
          runnable -> {
            Thread thread = new Thread(runnable, "scripted-request");
            thread.setDaemon(true);
            return thread;
          });
  private final Map<Integer, CompletableFuture<Void>> cancellations = new ConcurrentHashMap<>();
  private final List<byte[]> retained = new ArrayList<>();

  private ScriptedTool(boolean json, boolean cancellable, OutputStream out) {
    this.json = json;
    this.cancellable = cancellable;
    this.out = out;
  }

  public static void main(String[] args) throws IOException, InterruptedException {
    boolean persistent = false;
    boolean json = false;
    boolean cancellable = false;
    boolean ignoreStdinClose = false;
    boolean ignoreSigterm = false;
    Integer exitAtStart = null;
    String startupStderr = null;
    for (String arg : args) {
      if (arg.equals("--persistent_worker")) {
        persistent = true;
      } else if (arg.equals("--protocol=json")) {
        json = true;
      } else if (arg.equals("--protocol=proto")) {
        json = false;
      } else if (arg.equals("--multiplex")) {
        // Requests always run on their own threads; the flag documents the intent.
      } else if (arg.equals("--cancellable")) {
        cancellable = true;
      } else if (arg.equals("--ignore-stdin-close")) {
        ignoreStdinClose = true;
      } else if (arg.equals("--ignore-sigterm")) {
        ignoreSigterm = true;
      } else if (arg.startsWith("--exit-at-start=")) {
        exitAtStart = Integer.parseInt(arg.substring("--exit-at-start=".length()));
      } else if (arg.startsWith("--startup-stderr=")) {
        startupStderr = arg.substring("--startup-stderr=".length());
      } else {
        System.err.println("scripted tool: unknown flag " + arg);
        System.exit(2);
      }
    }
    // The environment names no locale; stderr must carry any text whole all the same.
    System.setErr(
        new PrintStream(new FileOutputStream(FileDescriptor.err), true, StandardCharsets.UTF_8));
    if (startupStderr != null) {
      System.err.println(startupStderr);
      System.err.flush();
    }
    if (exitAtStart != null) {
      System.exit(exitAtStart);
    }
    if (!persistent) {
      System.err.println("scripted tool: only --persistent_worker mode is supported");
      System.exit(2);
    }
    if (ignoreSigterm) {
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(
                  () -> {
                    System.err.println("scripted tool: got SIGTERM, ignoring it");
                    System.err.flush();
                    parkForever();
                  }));
    }
    // Only responses may reach stdout; anything printed by mistake goes to stderr.
    OutputStream stdout = new BufferedOutputStream(new FileOutputStream(FileDescriptor.out));
    System.setOut(System.err);
    new ScriptedTool(json, cancellable, stdout).serve(System.in);
    if (ignoreStdinClose) {
      System.err.println("scripted tool: stdin closed, staying anyway");
      System.err.flush();
      parkForever();
    }
    System.exit(0);
  }

  private static void parkForever() {
    CountDownLatch never = new CountDownLatch(1);
    while (true) {
      try {
        never.await();
      } catch (InterruptedException e) {
        // keep waiting: this mode exists to be killed
      }
    }
  }

  private void serve(InputStream in) throws IOException {
    JsonParser parser = json ? jsonFactory.createParser(in) : null;
    while (true) {
      WorkRequest request = json ? readJson(parser) : WorkRequest.parseDelimitedFrom(in);
      if (request == null) {
        return;
      }
      if (request.getCancel()) {
        CompletableFuture<Void> waiting = cancellations.get(request.getRequestId());
        if (cancellable && waiting != null) {
          waiting.complete(null);
        }
        continue;
      }
      if (request.getArgumentsCount() > 0 && request.getArguments(0).equals("sleep-until-cancel")) {
        // Registered before the next read, so that a cancel right behind it finds it, and said on
        // stderr in the order of stdin, so that tests can expect the stderr tail exactly.
        cancellations.put(request.getRequestId(), new CompletableFuture<>());
        System.err.println(
            "scripted tool: request " + request.getRequestId() + " waits for its cancellation");
      }
      handlers.execute(() -> handle(request));
    }
  }

  private void handle(WorkRequest request) {
    WorkResponse.Builder response = WorkResponse.newBuilder().setRequestId(request.getRequestId());
    try {
      run(request, response);
    } catch (IOException | RuntimeException e) {
      response.setExitCode(1).setOutput("scripted tool: " + e);
    }
    try {
      write(response.build());
    } catch (IOException e) {
      System.err.println("scripted tool: cannot write a response: " + e);
    }
  }

  private void run(WorkRequest request, WorkResponse.Builder response) throws IOException {
    // Several commands in one request are separated by a ";" argument; outputs join by newlines.
    List<String> all = request.getArgumentsList();
    StringBuilder outputs = new StringBuilder();
    int start = 0;
    for (int i = 0; i <= all.size(); i++) {
      if (i == all.size() || all.get(i).equals(";")) {
        run(request, all.subList(start, i), response);
        if (outputs.length() > 0 && !response.getOutput().isEmpty()) {
          outputs.append('\n');
        }
        outputs.append(response.getOutput());
        response.setOutput("");
        start = i + 1;
      }
    }
    response.setOutput(outputs.toString());
  }

  private void run(WorkRequest request, List<String> args, WorkResponse.Builder response)
      throws IOException {
    String command = args.isEmpty() ? "" : args.get(0);
    List<String> rest = args.isEmpty() ? List.of() : args.subList(1, args.size());
    int id = request.getRequestId();
    switch (command) {
      case "echo" -> response.setOutput(String.join(" ", rest));
      case "exit" -> response.setExitCode(Integer.parseInt(rest.get(0)));
      case "sleep-until-cancel" -> {
        cancellations.get(id).join();
        cancellations.remove(id);
        response.setWasCancelled(true).setOutput("cancelled");
      }
      case "garbage" -> {
        String text = rest.isEmpty() ? "hello from the scripted tool" : String.join(" ", rest);
        synchronized (writeLock) {
          out.write((text + "\n").getBytes(StandardCharsets.UTF_8));
          out.flush();
        }
        response.setOutput("after the garbage");
      }
      case "crash" -> {
        System.err.println("scripted tool: crashing on purpose in request " + id);
        System.err.flush();
        Runtime.getRuntime().halt(3);
      }
      case "write", "append" -> {
        Path file = base(request).resolve(rest.get(0));
        Files.createDirectories(file.toAbsolutePath().getParent());
        byte[] text =
            String.join(" ", rest.subList(1, rest.size())).getBytes(StandardCharsets.UTF_8);
        if (command.equals("write")) {
          Files.write(file, text);
        } else {
          Files.write(file, text, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        }
      }
      case "read" -> response.setOutput(Files.readString(base(request).resolve(rest.get(0))));
      case "exists" ->
          response.setOutput(Files.exists(base(request).resolve(rest.get(0))) ? "yes" : "no");
      case "overwrite" -> {
        // Rewrites a (read-only, hard-linked) input in place, as a misbehaving tool might.
        Path file = base(request).resolve(rest.get(0));
        file.toFile().setWritable(true);
        try (var channel =
            java.nio.channels.FileChannel.open(
                file, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
          channel.write(
              java.nio.ByteBuffer.wrap(
                  String.join(" ", rest.subList(1, rest.size())).getBytes(StandardCharsets.UTF_8)));
        }
      }
      case "crash-once", "garbage-once" -> {
        // Fails the first time only (the marker is an absolute path that outlives the process),
        // so that a retry on a fresh process succeeds.
        Path marker = Path.of(rest.get(0));
        if (!Files.exists(marker)) {
          Files.createFile(marker);
          run(request, List.of(command.equals("crash-once") ? "crash" : "garbage"), response);
        }
        response.setOutput("recovered");
      }
      case "wait-for" -> {
        Path gate = Path.of(rest.get(0));
        while (!Files.exists(gate)) {
          try {
            Thread.sleep(10);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for " + gate);
          }
        }
        response.setOutput("released");
      }
      case "allocate" -> {
        int mebibytes = Integer.parseInt(rest.get(0));
        synchronized (retained) {
          for (int i = 0; i < mebibytes; i++) {
            byte[] block = new byte[1 << 20];
            for (int j = 0; j < block.length; j += 4096) {
              block[j] = 1;
            }
            retained.add(block);
          }
        }
        response.setOutput("allocated " + mebibytes + " MiB");
      }
      case "inputs" -> {
        StringBuilder text = new StringBuilder();
        for (Input input : request.getInputsList()) {
          text.append(input.getPath())
              .append(' ')
              .append(input.getDigest().toStringUtf8())
              .append('\n');
        }
        response.setOutput(text.toString());
      }
      case "answer-as" -> response.setRequestId(Integer.parseInt(rest.get(0)));
      case "pid" -> response.setOutput(Long.toString(ProcessHandle.current().pid()));
      case "cwd" -> response.setOutput(Path.of("").toAbsolutePath().toString());
      case "env" -> {
        String value = System.getenv(rest.get(0));
        response.setOutput(value == null ? "<unset>" : value);
      }
      case "describe" ->
          response.setOutput(
              "id="
                  + id
                  + " verbosity="
                  + request.getVerbosity()
                  + " sandbox="
                  + request.getSandboxDir()
                  + " arguments="
                  + args);
      case "stderr" -> {
        System.err.println(String.join(" ", rest));
        System.err.flush();
      }
      case "spawn-child" -> {
        Process child = new ProcessBuilder("/bin/sleep", "1000").start();
        response.setOutput(Long.toString(child.pid()));
      }
      default ->
          response.setExitCode(2).setOutput("scripted tool: unknown command '" + command + "'");
    }
  }

  private static Path base(WorkRequest request) {
    Path cwd = Path.of("").toAbsolutePath();
    return request.getSandboxDir().isEmpty() ? cwd : cwd.resolve(request.getSandboxDir());
  }

  private void write(WorkResponse response) throws IOException {
    synchronized (writeLock) {
      if (json) {
        JsonGenerator generator = jsonFactory.createGenerator(out, JsonEncoding.UTF8);
        generator.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
        generator.useDefaultPrettyPrinter();
        generator.writeStartObject();
        generator.writeNumberField("exitCode", response.getExitCode());
        if (!response.getOutput().isEmpty()) {
          generator.writeStringField("output", response.getOutput());
        }
        // Not part of the protocol: readers must skip fields they do not know.
        generator.writeObjectFieldStart("scriptedTool");
        generator.writeArrayFieldStart("note");
        generator.writeString("unknown fields are ignored");
        generator.writeEndArray();
        generator.writeEndObject();
        if (response.getRequestId() != 0) {
          generator.writeNumberField("requestId", response.getRequestId());
        }
        if (response.getWasCancelled()) {
          generator.writeBooleanField("wasCancelled", true);
        }
        generator.writeEndObject();
        generator.close();
      } else {
        response.writeDelimitedTo(out);
      }
      out.flush();
    }
  }

  private WorkRequest readJson(JsonParser parser) throws IOException {
    JsonToken token = parser.nextToken();
    if (token == null) {
      return null;
    }
    if (token != JsonToken.START_OBJECT) {
      throw new IOException("scripted tool: expected a request object, got " + token);
    }
    WorkRequest.Builder request = WorkRequest.newBuilder();
    while (parser.nextToken() == JsonToken.FIELD_NAME) {
      String name = parser.currentName();
      parser.nextToken();
      switch (name) {
        case "arguments" -> {
          while (parser.nextToken() != JsonToken.END_ARRAY) {
            request.addArguments(parser.getText());
          }
        }
        case "inputs" -> {
          while (parser.nextToken() == JsonToken.START_OBJECT) {
            Input.Builder input = Input.newBuilder();
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
              String field = parser.currentName();
              parser.nextToken();
              if (field.equals("path")) {
                input.setPath(parser.getText());
              } else if (field.equals("digest")) {
                // proto3 JSON: a bytes field is base64.
                input.setDigest(ByteString.copyFrom(Base64.getDecoder().decode(parser.getText())));
              } else {
                parser.skipChildren();
              }
            }
            request.addInputs(input);
          }
        }
        case "requestId" -> request.setRequestId(parser.getIntValue());
        case "cancel" -> request.setCancel(parser.getBooleanValue());
        case "verbosity" -> request.setVerbosity(parser.getIntValue());
        case "sandboxDir" -> request.setSandboxDir(parser.getText());
        default -> parser.skipChildren();
      }
    }
    return request.build();
  }
}
