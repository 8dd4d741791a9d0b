package build.hearth.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.ExecuteRequest;
import build.hearth.api.BlobUpload;
import build.hearth.api.ConfigException;
import build.hearth.api.Digest;
import com.google.protobuf.ByteString;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** After {@code close()}, every call is the caller's mistake; directories belong to one holder. */
class HearthLifecycleTest {
  @TempDir Path tempDir;

  @Test
  void everyCallAfterCloseNamesTheClosedInstance() {
    Hearth hearth =
        Hearth.newBuilder().name("my-build").localExecution(tempDir.resolve("exec")).build();
    var cas = hearth.cas();
    var actionCache = hearth.actionCache();
    var execution = hearth.execution();
    Digest hello = cas.put(ByteString.copyFromUtf8("hello"));
    BlobUpload upload = cas.startUpload(Digest.of(ByteString.copyFromUtf8("late")));
    upload.write(ByteString.copyFromUtf8("late"));

    hearth.close();

    String closed = "Hearth instance 'my-build' is closed";
    assertThatThrownBy(() -> cas.put(ByteString.copyFromUtf8("x")))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining(closed);
    assertThatThrownBy(() -> cas.get(hello))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining(closed);
    assertThatThrownBy(upload::commit)
        .as("an upload started before close cannot commit after it")
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining(closed);
    assertThatThrownBy(() -> actionCache.put(hello, ActionResult.getDefaultInstance()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining(closed);
    assertThatThrownBy(
            () ->
                execution.execute(
                    ExecuteRequest.newBuilder().setActionDigest(hello.toProto()).build()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining(closed);
    assertThatThrownBy(hearth::execution)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining(closed);
    assertThat(hearth).hasToString("Hearth 'my-build'");
    upload.close();
    hearth.close(); // a second close does nothing
  }

  @Test
  void aSecondInstanceOverTheSameDirectoriesIsRefusedUntilTheFirstCloses() {
    Map<String, String> cas = Map.of("path", tempDir.resolve("cas").toString());
    Map<String, String> ac = Map.of("path", tempDir.resolve("ac").toString());
    Path exec = tempDir.resolve("exec");
    try (Hearth first =
        Hearth.newBuilder()
            .blobStore("filesystem", cas)
            .actionCacheStore("filesystem", ac)
            .localExecution(exec)
            .build()) {
      assertThatThrownBy(() -> Hearth.newBuilder().blobStore("filesystem", cas).build())
          .isInstanceOf(ConfigException.class)
          .hasMessageContaining("blobStore.path")
          .hasMessageContaining("is in use by another Hearth instance in this process");
      assertThatThrownBy(() -> Hearth.newBuilder().actionCacheStore("filesystem", ac).build())
          .isInstanceOf(ConfigException.class)
          .hasMessageContaining("actionCacheStore.path")
          .hasMessageContaining("in use");
      assertThatThrownBy(() -> Hearth.newBuilder().localExecution(exec).build())
          .isInstanceOf(ConfigException.class)
          .hasMessageContaining("localExecution")
          .hasMessageContaining("in use");
      first.cas().put(ByteString.copyFromUtf8("still mine"));
    }
    try (Hearth second =
        Hearth.newBuilder()
            .blobStore("filesystem", cas)
            .actionCacheStore("filesystem", ac)
            .localExecution(exec)
            .build()) {
      assertThat(second.cas().contains(Digest.of(ByteString.copyFromUtf8("still mine"))))
          .as("the second instance opens once the first has closed, and starts warm")
          .isTrue();
    }
  }

  @Test
  void aDirectoryHeldByAnotherProcessNamesItsPid() throws Exception {
    Path casDir = tempDir.resolve("cas");
    Path source = tempDir.resolve("Holder.java");
    Files.writeString(
        source,
        """
        import java.nio.channels.FileChannel;
        import java.nio.file.*;
        public class Holder {
          public static void main(String[] args) throws Exception {
            Path dir = Path.of(args[0]);
            Files.createDirectories(dir);
            FileChannel channel = FileChannel.open(dir.resolve("blob-store.lock"),
                StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            channel.lock();
            channel.write(java.nio.ByteBuffer.wrap(
                ("process " + ProcessHandle.current().pid() + " (started then)\\n").getBytes()));
            System.out.println("locked");
            System.out.flush();
            System.in.read();
          }
        }
        """);
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    Process holder =
        new ProcessBuilder(List.of(java.toString(), source.toString(), casDir.toString()))
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    try {
      BufferedReader out =
          new BufferedReader(
              new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8));
      assertThat(out.readLine()).isEqualTo("locked");
      assertThatThrownBy(
              () ->
                  Hearth.newBuilder()
                      .blobStore("filesystem", Map.of("path", casDir.toString()))
                      .build())
          .isInstanceOf(ConfigException.class)
          .hasMessageContaining("blobStore.path")
          .hasMessageContaining("in use by process " + holder.pid() + " (started then)");
    } finally {
      holder.destroy();
      holder.waitFor();
    }
  }

  @Test
  void aHearthWithoutLocalExecutionSaysHowToGetIt() throws IOException {
    try (Hearth hearth = Hearth.newBuilder().name("cache-only").build()) {
      assertThatThrownBy(hearth::execution)
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("'cache-only' does not execute actions")
          .hasMessageContaining("localExecution(");
    }
  }
}
