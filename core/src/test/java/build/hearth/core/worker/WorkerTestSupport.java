package build.hearth.core.worker;

import build.bazel.remote.execution.v2.Action;
import build.bazel.remote.execution.v2.Command;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.FileNode;
import build.hearth.api.ContentAddressableStorage;
import build.hearth.api.Digest;
import build.hearth.core.Hearth;
import build.hearth.core.process.ProcessLauncher;
import build.hearth.spi.storage.BlobStore;
import build.hearth.spi.storage.StoreContext;
import build.hearth.spi.storage.StoreProviderRegistry;
import build.hearth.spi.storage.StoreSettings;
import build.hearth.spi.worker.ExecutionTask;
import com.google.protobuf.ByteString;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;

/**
 * What the worker tests share: a server CAS on the real {@code filesystem} store (through {@link
 * Hearth}), a local cache on the same store, a recording launcher over the system one, a ticking
 * clock, and builders for trees, commands and tasks.
 */
final class WorkerTestSupport implements AutoCloseable {
  static final String PATH = "/bin:/usr/bin";

  final Path workDir;
  final Hearth server;
  final BlobStore cacheStore;
  final RecordingLauncher launcher = new RecordingLauncher();
  final TickingClock clock = new TickingClock();

  WorkerTestSupport(Path tempDir) {
    this.workDir = tempDir.resolve("work");
    this.server =
        Hearth.newBuilder()
            .blobStore("filesystem", Map.of("path", tempDir.resolve("server-cas").toString()))
            .build();
    StoreContext context =
        StoreContext.newBuilder(
                "cache",
                StoreSettings.of(
                    "cache", Map.of("path", tempDir.resolve("worker-cache").toString())))
            .build();
    this.cacheStore =
        StoreProviderRegistry.discover(WorkerTestSupport.class.getClassLoader())
            .createBlobStore("filesystem", "cache.type", 0, context);
  }

  ContentAddressableStorage cas() {
    return server.cas();
  }

  LocalActionRunner.Builder runnerBuilder() {
    return LocalActionRunner.newBuilder()
        .workerName("test-worker")
        .workDirectory(workDir)
        .localCache(cacheStore)
        .cas(instance -> server.cas())
        .launcher(launcher)
        .clock(clock);
  }

  /** Stores {@code directory} in the server CAS. */
  Digest put(Directory directory) {
    return cas().put(directory.toByteString());
  }

  FileNode file(String name, String text, boolean executable) {
    Digest digest = cas().put(ByteString.copyFromUtf8(text));
    return FileNode.newBuilder()
        .setName(name)
        .setDigest(digest.toProto())
        .setIsExecutable(executable)
        .build();
  }

  Digest emptyTree() {
    return put(Directory.getDefaultInstance());
  }

  /** {@code /bin/sh -c script} with {@code PATH} set and the given output paths. */
  static Command.Builder sh(String script, String... outputPaths) {
    return Command.newBuilder()
        .addArguments("/bin/sh")
        .addArguments("-c")
        .addArguments(script)
        .addEnvironmentVariables(env("PATH", PATH))
        .addAllOutputPaths(List.of(outputPaths));
  }

  static Command.EnvironmentVariable env(String name, String value) {
    return Command.EnvironmentVariable.newBuilder().setName(name).setValue(value).build();
  }

  ExecutionTask task(Command command, Digest inputRoot, Duration timeout) {
    Digest commandDigest = cas().put(command.toByteString());
    Action action =
        Action.newBuilder()
            .setCommandDigest(commandDigest.toProto())
            .setInputRootDigest(inputRoot.toProto())
            .build();
    Digest actionDigest = cas().put(action.toByteString());
    return new ExecutionTask("", actionDigest, action, command, timeout);
  }

  ExecutionTask task(Command command) {
    return task(command, emptyTree(), Duration.ofSeconds(20));
  }

  /** The text of the blob {@code digest} in the server CAS. */
  String text(build.bazel.remote.execution.v2.Digest digest) {
    return cas().get(Digest.fromProto(digest)).toStringUtf8();
  }

  /** Exec roots and stdout/stderr files still on disk under the work directory. */
  List<Path> leftovers() throws IOException {
    try (Stream<Path> files = Files.walk(workDir, 3)) {
      return files
          .filter(
              p -> {
                String name = p.getFileName().toString();
                return name.startsWith("exec-") || name.startsWith("action-");
              })
          .toList();
    }
  }

  @Override
  public void close() {
    cacheStore.close();
    server.close();
  }

  /** The system launcher, remembering every process it started. */
  static final class RecordingLauncher implements ProcessLauncher {
    final List<Process> processes = new CopyOnWriteArrayList<>();
    final List<Request> requests = new CopyOnWriteArrayList<>();

    @Override
    public Process launch(Request request) throws IOException {
      requests.add(request);
      Process process = ProcessLauncher.system().launch(request);
      processes.add(process);
      return process;
    }
  }

  /** A clock one second further on each time it is read, so phases have distinct times. */
  static final class TickingClock extends Clock {
    private Instant now = Instant.parse("2024-01-01T00:00:00Z");

    @Override
    public synchronized Instant instant() {
      now = now.plusSeconds(1);
      return now;
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      throw new UnsupportedOperationException("tests use UTC");
    }
  }
}
