package build.hearth.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import build.bazel.remote.execution.v2.Action;
import build.bazel.remote.execution.v2.BatchReadBlobsRequest;
import build.bazel.remote.execution.v2.BatchUpdateBlobsRequest;
import build.bazel.remote.execution.v2.BatchUpdateBlobsResponse;
import build.bazel.remote.execution.v2.Command;
import build.bazel.remote.execution.v2.ContentAddressableStorageGrpc;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.DirectoryNode;
import build.bazel.remote.execution.v2.ExecuteRequest;
import build.bazel.remote.execution.v2.ExecuteResponse;
import build.bazel.remote.execution.v2.ExecutionGrpc;
import build.bazel.remote.execution.v2.FileNode;
import build.bazel.remote.execution.v2.NodeProperties;
import build.bazel.remote.execution.v2.NodeProperty;
import build.bazel.remote.execution.v2.OutputFile;
import build.bazel.remote.execution.v2.Platform;
import build.hearth.api.Digest;
import build.hearth.api.PoolStats;
import build.hearth.api.RetirementReason;
import build.hearth.server.HearthServer;
import com.google.longrunning.Operation;
import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarInputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a newer Bazel sends with {@code --experimental_remote_mark_tool_inputs}, simulated with a
 * plain gRPC client (Bazel 4.2.3 cannot): a 64-hex {@code persistentWorkerKey} and tool files
 * marked {@code bazel_tool_input}. Hearth keys its pool on the marked files, so a change to one of
 * them (even one the command line does not name) starts a new process and retires the old.
 */
class MarkedToolInputsE2eTest {
  private static final String KEY =
      "3f1c0e6a9b2d4c8e7f5a1b3c5d7e9f0a2b4c6d8e0f1a3b5c7d9e1f2a4b6c8d0e";

  @TempDir Path storage;
  private ManagedChannel channel;

  @AfterEach
  void closeChannel() throws InterruptedException {
    if (channel != null) {
      channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void marksKeyThePoolAndAChangedMarkedFileRetiresTheOldProcess() throws IOException {
    WorkerSetup worker = WorkerSetup.linux("marked", 2, storage.resolve("workers"));
    try (HearthServer hearth =
        HearthServer.start(HearthConfigs.remoteExecution(storage, "5m", List.of(worker)))) {
      channel = ManagedChannelBuilder.forAddress("127.0.0.1", hearth.port()).usePlaintext().build();

      ExecuteResponse first = execute(action("class Hello {}", "settings v1"));
      assertCompiled(first, "Hello.class");
      ExecuteResponse second = execute(action("class Again {}", "settings v1"));
      assertCompiled(second, "Again.class");

      PoolStats stats = hearth.persistentWorkerStats().get("marked");
      assertThat(stats.totals().spawns()).isEqualTo(1);
      assertThat(stats.totals().warmRequests()).isEqualTo(1);
      assertThat(stats.keys())
          .singleElement()
          .satisfies(k -> assertThat(k.clientKey()).isEqualTo(KEY));

      // tools/settings.cfg is on no command line: only its mark makes it part of the key.
      ExecuteResponse third = execute(action("class Third {}", "settings v2"));
      assertCompiled(third, "Third.class");
      PoolStats after = hearth.persistentWorkerStats().get("marked");
      assertThat(after.totals().spawns()).isEqualTo(2);
      assertThat(after.totals().retired(RetirementReason.TOOL_CHANGE)).isEqualTo(1);
    }
  }

  /** A compile of one source file by the javac worker, its tool files marked. */
  private Action action(String source, String settings) throws IOException {
    byte[] jar = Files.readAllBytes(JavacWorkspaceLocalE2eTest.workerJar());
    byte[] script = "#!/bin/sh\nexec java \"$@\"\n".getBytes(StandardCharsets.UTF_8);
    String className = source.split(" ")[1];
    byte[] params =
        ("--output\nout/lib.jar\n--source\nsrc/" + className + ".java\n")
            .getBytes(StandardCharsets.UTF_8);
    List<ByteString> blobs = new ArrayList<>();
    Directory tools =
        Directory.newBuilder()
            .addFiles(file("java.sh", script, true, true, blobs))
            .addFiles(file("javac-worker.jar", jar, false, true, blobs))
            .addFiles(
                file("settings.cfg", settings.getBytes(StandardCharsets.UTF_8), false, true, blobs))
            .build();
    Directory src =
        Directory.newBuilder()
            .addFiles(
                file(
                    className + ".java",
                    source.getBytes(StandardCharsets.UTF_8),
                    false,
                    false,
                    blobs))
            .build();
    Directory root =
        Directory.newBuilder()
            .addFiles(file("lib.params", params, false, false, blobs))
            .addDirectories(directory("src", src, blobs))
            .addDirectories(directory("tools", tools, blobs))
            .build();
    Command command =
        Command.newBuilder()
            .addArguments("tools/java.sh")
            .addArguments("-jar")
            .addArguments("tools/javac-worker.jar")
            .addArguments("@lib.params")
            .addEnvironmentVariables(
                Command.EnvironmentVariable.newBuilder().setName("PATH").setValue("/bin:/usr/bin"))
            .addOutputPaths("out/lib.jar")
            .build();
    Action action =
        Action.newBuilder()
            .setCommandDigest(digest(command.toByteString(), blobs).toProto())
            .setInputRootDigest(digest(root.toByteString(), blobs).toProto())
            .setPlatform(
                Platform.newBuilder()
                    .addProperties(
                        Platform.Property.newBuilder()
                            .setName("persistentWorkerKey")
                            .setValue(KEY)))
            .build();
    digest(action.toByteString(), blobs);
    upload(blobs);
    return action;
  }

  private ExecuteResponse execute(Action action) {
    ExecutionGrpc.ExecutionBlockingStub execution = ExecutionGrpc.newBlockingStub(channel);
    Iterator<Operation> operations =
        execution.execute(
            ExecuteRequest.newBuilder()
                .setActionDigest(Digest.of(action.toByteArray()).toProto())
                .setSkipCacheLookup(true)
                .build());
    Operation last = null;
    while (operations.hasNext()) {
      last = operations.next();
    }
    assertThat(last).isNotNull();
    assertThat(last.getDone()).isTrue();
    try {
      return last.getResponse().unpack(ExecuteResponse.class);
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new AssertionError(e);
    }
  }

  private void assertCompiled(ExecuteResponse response, String classFile) throws IOException {
    assertThat(response.getStatus().getCode()).as(response.getStatus().getMessage()).isZero();
    assertThat(response.getResult().getExitCode()).isZero();
    OutputFile jar = response.getResult().getOutputFiles(0);
    assertThat(jar.getPath()).isEqualTo("out/lib.jar");
    ByteString bytes =
        ContentAddressableStorageGrpc.newBlockingStub(channel)
            .batchReadBlobs(BatchReadBlobsRequest.newBuilder().addDigests(jar.getDigest()).build())
            .getResponses(0)
            .getData();
    List<String> entries = new ArrayList<>();
    try (JarInputStream in = new JarInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
      for (JarEntry entry = in.getNextJarEntry(); entry != null; entry = in.getNextJarEntry()) {
        entries.add(entry.getName());
      }
    }
    assertThat(entries).contains(classFile);
  }

  private void upload(List<ByteString> blobs) {
    BatchUpdateBlobsRequest.Builder request = BatchUpdateBlobsRequest.newBuilder();
    for (ByteString blob : blobs) {
      request.addRequests(
          BatchUpdateBlobsRequest.Request.newBuilder()
              .setDigest(Digest.of(blob).toProto())
              .setData(blob));
    }
    BatchUpdateBlobsResponse response =
        ContentAddressableStorageGrpc.newBlockingStub(channel).batchUpdateBlobs(request.build());
    response
        .getResponsesList()
        .forEach(r -> assertThat(r.getStatus().getCode()).as(r.getStatus().getMessage()).isZero());
  }

  private static FileNode file(
      String name, byte[] content, boolean executable, boolean toolInput, List<ByteString> blobs) {
    FileNode.Builder node =
        FileNode.newBuilder()
            .setName(name)
            .setDigest(digest(ByteString.copyFrom(content), blobs).toProto())
            .setIsExecutable(executable);
    if (toolInput) {
      node.setNodeProperties(
          NodeProperties.newBuilder()
              .addProperties(NodeProperty.newBuilder().setName("bazel_tool_input")));
    }
    return node.build();
  }

  private static DirectoryNode directory(String name, Directory directory, List<ByteString> blobs) {
    return DirectoryNode.newBuilder()
        .setName(name)
        .setDigest(digest(directory.toByteString(), blobs).toProto())
        .build();
  }

  private static Digest digest(ByteString blob, List<ByteString> blobs) {
    blobs.add(blob);
    return Digest.of(blob);
  }
}
