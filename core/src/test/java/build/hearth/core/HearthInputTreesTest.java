package build.hearth.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import build.bazel.remote.execution.v2.Action;
import build.bazel.remote.execution.v2.Command;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.DirectoryNode;
import build.bazel.remote.execution.v2.ExecuteResponse;
import build.bazel.remote.execution.v2.FileNode;
import build.hearth.api.ContentAddressableStorage;
import build.hearth.api.Digest;
import build.hearth.api.InputFile;
import com.google.protobuf.InvalidProtocolBufferException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Input trees in one call: from a local directory or a map, sorted, and runnable. */
class HearthInputTreesTest {
  @TempDir Path tempDir;

  @Test
  void aLocalDirectoryBecomesASortedTreeThatAMapOfTheSameFilesMatches() throws IOException {
    Path src = Files.createDirectories(tempDir.resolve("src"));
    Files.writeString(src.resolve("b.txt"), "b");
    Files.writeString(src.resolve("B.txt"), "upper b");
    Files.writeString(src.resolve("a-é.txt"), "accent");
    Files.createDirectories(src.resolve("dir/sub"));
    Files.writeString(src.resolve("dir/sub/deep.txt"), "deep");
    Path script = Files.writeString(src.resolve("run.sh"), "#!/bin/sh\necho hi\n");
    Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
    try (Hearth hearth = Hearth.newBuilder().build()) {
      ContentAddressableStorage cas = hearth.cas();
      Digest fromDisk = cas.putDirectory(src);
      Digest fromMap =
          cas.putTree(
              Map.of(
                  "b.txt", InputFile.of("b"),
                  "B.txt", InputFile.of("upper b"),
                  "a-é.txt", InputFile.of("accent"),
                  "dir/sub/deep.txt", InputFile.of("deep"),
                  "run.sh", InputFile.executable("#!/bin/sh\necho hi\n")));
      assertThat(fromMap)
          .as("the same files give the same root digest either way")
          .isEqualTo(fromDisk);

      Directory root = directory(cas, fromDisk);
      assertThat(root.getFilesList())
          .extracting(FileNode::getName)
          .as("files in code-point order")
          .containsExactly("B.txt", "a-é.txt", "b.txt", "run.sh");
      assertThat(root.getFiles(3).getIsExecutable()).as("run.sh keeps its executable bit").isTrue();
      assertThat(root.getFiles(0).getIsExecutable()).as("B.txt is not executable").isFalse();
      DirectoryNode dir = root.getDirectories(0);
      Directory sub =
          directory(
              cas,
              Digest.fromProto(
                  directory(cas, Digest.fromProto(dir.getDigest())).getDirectories(0).getDigest()));
      assertThat(cas.get(sub.getFiles(0).getDigest()).toStringUtf8())
          .as("a file two levels down is uploaded")
          .isEqualTo("deep");
    }
  }

  @Test
  void aLargeFileIsUploadedWhole() throws IOException {
    byte[] big = new byte[3 * 1024 * 1024 + 17];
    new Random(7).nextBytes(big);
    Path src = Files.createDirectories(tempDir.resolve("big"));
    Files.write(src.resolve("blob.bin"), big);
    try (Hearth hearth = Hearth.newBuilder().build()) {
      Directory root = directory(hearth.cas(), hearth.cas().putDirectory(src));
      Digest file = Digest.fromProto(root.getFiles(0).getDigest());
      assertThat(file).as("digest of the 3 MiB file").isEqualTo(Digest.of(big));
      try (InputStream in = hearth.cas().read(file, 0, 0)) {
        assertThat(Digest.of(in.readAllBytes()))
            .as("digest of the stored bytes")
            .isEqualTo(Digest.of(big));
      }
    }
  }

  @Test
  void aSymlinkOutOfTheTreeIsRefusedAndNamed() throws IOException {
    Path src = Files.createDirectories(tempDir.resolve("links/src"));
    Files.writeString(src.resolve("in.txt"), "in");
    Files.createSymbolicLink(src.resolve("ok"), Path.of("in.txt"));
    try (Hearth hearth = Hearth.newBuilder().build()) {
      Directory root = directory(hearth.cas(), hearth.cas().putDirectory(src));
      assertThat(root.getSymlinks(0).getTarget())
          .as("a link inside the tree is kept")
          .isEqualTo("in.txt");

      Path escape = Files.createSymbolicLink(src.resolve("escape"), Path.of("../../secret"));
      assertThatThrownBy(() -> hearth.cas().putDirectory(src))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("input symlink " + escape)
          .hasMessageContaining("outside the input directory");
      Files.delete(escape);
      Path absolute = Files.createSymbolicLink(src.resolve("abs"), Path.of("/etc/passwd"));
      assertThatThrownBy(() -> hearth.cas().putDirectory(src))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("input symlink " + absolute);
    }
  }

  @Test
  void badMapPathsAreNamed() {
    try (Hearth hearth = Hearth.newBuilder().build()) {
      ContentAddressableStorage cas = hearth.cas();
      assertThatThrownBy(() -> cas.putTree(Map.of("../x", InputFile.of("x"))))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("'../x'");
      assertThatThrownBy(() -> cas.putTree(Map.of("/abs", InputFile.of("x"))))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("'/abs'");
      assertThatThrownBy(
              () -> cas.putTree(Map.of("a", InputFile.of("x"), "a/b", InputFile.of("y"))))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("'a'")
          .hasMessageContaining("both a file and a directory");
      assertThat(cas.putTree(Map.of()))
          .as("the empty tree")
          .isEqualTo(Digest.of(Directory.getDefaultInstance().toByteString()));
    }
  }

  @Test
  void aPutDirectoryRunsAsAnActionsInputs() throws IOException {
    Path src = Files.createDirectories(tempDir.resolve("run"));
    Files.writeString(src.resolve("greeting.txt"), "hello from a directory\n");
    try (Hearth hearth =
        Hearth.newBuilder().workerSlots(1).localExecution(tempDir.resolve("exec")).build()) {
      ContentAddressableStorage cas = hearth.cas();
      Digest command =
          cas.putMessage(
              Command.newBuilder().addArguments("cat").addArguments("greeting.txt").build());
      Digest action =
          cas.putMessage(
              Action.newBuilder()
                  .setCommandDigest(command.toProto())
                  .setInputRootDigest(cas.putDirectory(src).toProto())
                  .build());
      ExecuteResponse response = hearth.execution().execute(action).result().join();
      assertThat(response.getStatus().getCode()).as("status %s", response.getStatus()).isZero();
      assertThat(cas.get(response.getResult().getStdoutDigest()).toString(StandardCharsets.UTF_8))
          .isEqualTo("hello from a directory\n");
    }
  }

  private static Directory directory(ContentAddressableStorage cas, Digest digest) {
    try {
      return Directory.parseFrom(cas.get(digest));
    } catch (InvalidProtocolBufferException e) {
      throw new AssertionError(e);
    }
  }
}
