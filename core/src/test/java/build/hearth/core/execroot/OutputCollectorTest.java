package build.hearth.core.execroot;

import static build.hearth.core.execroot.TreeMaker.symlink;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.Command;
import build.bazel.remote.execution.v2.Command.OutputDirectoryFormat;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.DirectoryNode;
import build.bazel.remote.execution.v2.FileNode;
import build.bazel.remote.execution.v2.OutputDirectory;
import build.bazel.remote.execution.v2.OutputFile;
import build.bazel.remote.execution.v2.OutputSymlink;
import build.bazel.remote.execution.v2.SymlinkNode;
import build.bazel.remote.execution.v2.Tree;
import build.hearth.api.ContentAddressableStorage;
import build.hearth.api.Digest;
import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Collecting an action's outputs from its exec root into the CAS. */
@SuppressWarnings("deprecation") // the pre-2.1 output fields are tested too
class OutputCollectorTest {
  private static final String SECRET = "top secret, never to be uploaded";

  @TempDir Path tempDir;

  private WorkerFixture fixture;
  private ContentAddressableStorage cas;
  private ExecRoots roots;
  private ExecRoot execRoot;
  private Path dir;
  private Path secret;

  @BeforeEach
  void setUp() throws IOException {
    fixture = new WorkerFixture(tempDir);
    cas = fixture.server.cas();
    TreeMaker trees = fixture.trees;
    Digest root =
        trees.put(
            Directory.newBuilder()
                .addFiles(trees.file("input.txt", "an input"))
                .addDirectories(trees.dir("real", Directory.getDefaultInstance()))
                .addSymlinks(symlink("linked", "real"))
                .build());
    roots = fixture.execRoots().build();
    execRoot = roots.prepare(root);
    dir = execRoot.path();
    secret = Files.writeString(tempDir.resolve("secret"), SECRET);
  }

  @AfterEach
  void tearDown() {
    execRoot.close();
    roots.close();
    fixture.close();
  }

  private Path write(String path, String content) throws IOException {
    Path file = dir.resolve(path);
    Files.createDirectories(file.getParent());
    return Files.writeString(file, content);
  }

  private Path symlinkAt(String path, String target) throws IOException {
    Path link = dir.resolve(path);
    Files.createDirectories(link.getParent());
    return Files.createSymbolicLink(link, Path.of(target));
  }

  private ActionResult collect(Command command) {
    ActionResult.Builder result = ActionResult.newBuilder();
    execRoot.collectOutputs(command, cas, result);
    return result.build();
  }

  private static OutputSymlink outputSymlink(String path, String target) {
    return OutputSymlink.newBuilder().setPath(path).setTarget(target).build();
  }

  private Tree tree(OutputDirectory output) throws IOException {
    return Tree.parseFrom(cas.get(Digest.fromProto(output.getTreeDigest())));
  }

  @Test
  void collectsFilesDirectoriesAndSymlinksNamedByOutputPaths() throws IOException {
    write("out/data.txt", "data");
    Path bin = write("out/bin", "#!/bin/sh\n");
    Files.setPosixFilePermissions(bin, PosixFilePermissions.fromString("rwxr-xr-x"));
    write("out/dir/a.txt", "A");
    write("out/dir/empty", "");
    write("out/dir/one/x", "X");
    write("out/dir/two/x", "X");
    symlinkAt("out/dir/up", "../data.txt");
    symlinkAt("out/link-file", "data.txt");

    ActionResult result =
        collect(
            Command.newBuilder()
                .addOutputPaths("out/bin")
                .addOutputPaths("out/data.txt")
                .addOutputPaths("out/dir")
                .addOutputPaths("out/link-file")
                .addOutputPaths("out/missing")
                .build());

    assertThat(result.getOutputFilesList())
        .containsExactly(
            OutputFile.newBuilder()
                .setPath("out/bin")
                .setDigest(TreeMaker.digestOf("#!/bin/sh\n").toProto())
                .setIsExecutable(true)
                .build(),
            OutputFile.newBuilder()
                .setPath("out/data.txt")
                .setDigest(TreeMaker.digestOf("data").toProto())
                .build());
    assertThat(cas.get(TreeMaker.digestOf("data")).toStringUtf8()).isEqualTo("data");
    assertThat(result.getOutputSymlinksList())
        .containsExactly(outputSymlink("out/link-file", "data.txt"));
    assertThat(result.getOutputFileSymlinksList()).isEmpty();

    assertThat(result.getOutputDirectoriesList()).hasSize(1);
    OutputDirectory output = result.getOutputDirectories(0);
    assertThat(output.getPath()).isEqualTo("out/dir");
    assertThat(output.hasRootDirectoryDigest()).isFalse();
    Tree tree = tree(output);
    Directory sub =
        Directory.newBuilder()
            .addFiles(TreeMaker.fileNode("x", TreeMaker.digestOf("X"), false))
            .build();
    Digest subDigest = Digest.of(sub.toByteArray());
    assertThat(tree.getRoot())
        .isEqualTo(
            Directory.newBuilder()
                .addFiles(TreeMaker.fileNode("a.txt", TreeMaker.digestOf("A"), false))
                .addFiles(TreeMaker.fileNode("empty", Digest.EMPTY, false))
                .addDirectories(
                    DirectoryNode.newBuilder().setName("one").setDigest(subDigest.toProto()))
                .addDirectories(
                    DirectoryNode.newBuilder().setName("two").setDigest(subDigest.toProto()))
                .addSymlinks(symlink("up", "../data.txt"))
                .build());
    // The two identical subdirectories are one child.
    assertThat(tree.getChildrenList()).containsExactly(sub);
    assertThat(cas.contains(TreeMaker.digestOf("X"))).isTrue();
  }

  @Test
  void reportsSymlinksThatPointOutsideWithoutReadingThem() throws IOException {
    symlinkAt("out/passwd", secret.toString());
    symlinkAt("out/up", "../../../../../../../../../../../../.." + secret);
    symlinkAt("out/dir/passwd", secret.toString());
    symlinkAt("out/dir/up", "../../../secret");

    ActionResult result =
        collect(
            Command.newBuilder()
                .addOutputPaths("out/dir")
                .addOutputPaths("out/passwd")
                .addOutputPaths("out/up")
                .build());

    assertThat(result.getOutputSymlinksList())
        .containsExactly(
            outputSymlink("out/passwd", secret.toString()),
            outputSymlink("out/up", "../../../../../../../../../../../../.." + secret));
    assertThat(result.getOutputFilesList()).isEmpty();
    assertThat(tree(result.getOutputDirectories(0)).getRoot().getSymlinksList())
        .containsExactly(
            SymlinkNode.newBuilder().setName("passwd").setTarget(secret.toString()).build(),
            SymlinkNode.newBuilder().setName("up").setTarget("../../../secret").build());
    assertThat(cas.contains(TreeMaker.digestOf(SECRET))).isFalse();
  }

  @Test
  void leavesOutAnOutputBehindADirectorySymlinkThatLeadsOutside() throws IOException {
    Files.createSymbolicLink(dir.resolve("out"), tempDir);
    write("real/inside.txt", "inside");

    ActionResult result =
        collect(
            Command.newBuilder()
                .addOutputPaths("out/secret")
                .addOutputPaths("linked/inside.txt")
                .build());

    // Through a symlink that stays inside, the output is found; through one that leaves, it is not.
    assertThat(result.getOutputFilesList())
        .extracting(OutputFile::getPath)
        .containsExactly("linked/inside.txt");
    assertThat(cas.contains(TreeMaker.digestOf(SECRET))).isFalse();
  }

  @Test
  void usesTheOlderFieldsWhenOutputPathsIsEmpty() throws IOException {
    write("f", "file");
    write("d/inner", "inner");
    symlinkAt("fl", "f");
    symlinkAt("dl", "d");

    ActionResult result =
        collect(
            Command.newBuilder()
                .addOutputFiles("f")
                .addOutputFiles("fl")
                .addOutputFiles("nothing")
                .addOutputDirectories("d")
                .addOutputDirectories("dl")
                .build());

    assertThat(result.getOutputFilesList()).extracting(OutputFile::getPath).containsExactly("f");
    assertThat(result.getOutputDirectoriesList())
        .extracting(OutputDirectory::getPath)
        .containsExactly("d");
    assertThat(result.getOutputFileSymlinksList()).containsExactly(outputSymlink("fl", "f"));
    assertThat(result.getOutputDirectorySymlinksList()).containsExactly(outputSymlink("dl", "d"));
    assertThat(result.getOutputSymlinksList())
        .containsExactly(outputSymlink("fl", "f"), outputSymlink("dl", "d"));
  }

  @Test
  void ignoresTheOlderFieldsWhenOutputPathsIsSet() throws IOException {
    write("f", "file");
    write("g", "other");
    ActionResult result =
        collect(Command.newBuilder().addOutputPaths("f").addOutputFiles("g").build());
    assertThat(result.getOutputFilesList()).extracting(OutputFile::getPath).containsExactly("f");
  }

  @Test
  void refusesAnOutputFileThatIsADirectoryAndTheReverse() throws IOException {
    write("d/inner", "inner");
    write("f", "file");
    assertThatThrownBy(() -> collect(Command.newBuilder().addOutputFiles("d").build()))
        .isInstanceOfSatisfying(
            HearthException.class,
            e -> assertThat(e.code()).isEqualTo(StatusCode.FAILED_PRECONDITION))
        .hasMessageContaining("output file 'd' is a directory");
    assertThatThrownBy(() -> collect(Command.newBuilder().addOutputDirectories("f").build()))
        .isInstanceOfSatisfying(
            HearthException.class,
            e -> assertThat(e.code()).isEqualTo(StatusCode.FAILED_PRECONDITION))
        .hasMessageContaining("output directory 'f' is a file");
  }

  @Test
  void refusesOutputPathsThatLeaveTheExecRootBeforeUploadingAnything() throws IOException {
    write("good", "would be uploaded first");
    for (String bad : new String[] {"../x", "a/../../x", "/etc/passwd", "a//b", "a/"}) {
      Command command = Command.newBuilder().addOutputPaths("good").addOutputPaths(bad).build();
      assertThatThrownBy(() -> collect(command))
          .as(bad)
          .isInstanceOfSatisfying(
              HearthException.class,
              e -> assertThat(e.code()).isEqualTo(StatusCode.INVALID_ARGUMENT))
          .hasMessageContaining("output path '" + bad + "'");
    }
    assertThat(cas.contains(TreeMaker.digestOf("would be uploaded first"))).isFalse();
  }

  @Test
  void resolvesOutputPathsAgainstTheWorkingDirectory() throws IOException {
    write("sub/out.txt", "in sub");
    write("top.txt", "at the top");
    ActionResult result =
        collect(
            Command.newBuilder()
                .setWorkingDirectory("sub")
                .addOutputPaths("out.txt")
                .addOutputPaths("../top.txt")
                .build());
    assertThat(result.getOutputFilesList())
        .extracting(OutputFile::getPath, f -> Digest.fromProto(f.getDigest()))
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("out.txt", TreeMaker.digestOf("in sub")),
            org.assertj.core.groups.Tuple.tuple("../top.txt", TreeMaker.digestOf("at the top")));

    Command escaping =
        Command.newBuilder().setWorkingDirectory("sub").addOutputPaths("../../x").build();
    assertThatThrownBy(() -> collect(escaping))
        .isInstanceOfSatisfying(
            HearthException.class,
            e -> assertThat(e.code()).isEqualTo(StatusCode.INVALID_ARGUMENT));
  }

  @Test
  void uploadsRootDirectoryMessagesWhenTheFormatAsksForThem() throws IOException {
    write("d/sub/file", "content");
    ActionResult result =
        collect(
            Command.newBuilder()
                .addOutputPaths("d")
                .setOutputDirectoryFormat(OutputDirectoryFormat.DIRECTORY_ONLY)
                .build());

    OutputDirectory output = result.getOutputDirectories(0);
    assertThat(output.hasTreeDigest()).isFalse();
    Directory root =
        Directory.parseFrom(cas.get(Digest.fromProto(output.getRootDirectoryDigest())));
    DirectoryNode sub = root.getDirectories(0);
    Directory child = Directory.parseFrom(cas.get(Digest.fromProto(sub.getDigest())));
    assertThat(child.getFilesList())
        .containsExactly(TreeMaker.fileNode("file", TreeMaker.digestOf("content"), false));
  }

  @Test
  void streamsALargeOutputFile() throws IOException {
    byte[] chunk = new byte[1 << 20];
    Arrays.fill(chunk, (byte) 'z');
    Path big = dir.resolve("big");
    try (OutputStream out = Files.newOutputStream(big)) {
      for (int i = 0; i < 5; i++) {
        out.write(chunk);
      }
    }
    ActionResult result = collect(Command.newBuilder().addOutputPaths("big").build());
    Digest digest = Digest.fromProto(result.getOutputFiles(0).getDigest());
    assertThat(digest.sizeBytes()).isEqualTo(5L << 20);
    assertThat(cas.contains(digest)).isTrue();
  }

  @Test
  void createsTheDirectoriesLeadingToOutputsButNotTheOutputs() {
    Command command =
        Command.newBuilder()
            .setWorkingDirectory("work")
            .addOutputPaths("a/b/file")
            .addOutputPaths("../top/dir")
            .build();
    execRoot.createOutputDirectories(command);
    assertThat(execRoot.workingDirectory(command)).isEqualTo(dir.resolve("work")).isDirectory();
    assertThat(dir.resolve("work/a/b")).isDirectory();
    assertThat(dir.resolve("work/a/b/file")).doesNotExist();
    assertThat(dir.resolve("top")).isDirectory();
    assertThat(dir.resolve("top/dir")).doesNotExist();
  }

  @Test
  void refusesToCreateOutputDirectoriesThroughAnInputSymlinkOrFile() {
    assertThatThrownBy(
            () ->
                execRoot.createOutputDirectories(
                    Command.newBuilder().addOutputPaths("linked/out").build()))
        .isInstanceOfSatisfying(
            HearthException.class, e -> assertThat(e.code()).isEqualTo(StatusCode.INVALID_ARGUMENT))
        .hasMessageContaining("'linked' is a symlink in the input tree");
    assertThatThrownBy(
            () ->
                execRoot.createOutputDirectories(
                    Command.newBuilder().addOutputPaths("input.txt/out").build()))
        .hasMessageContaining("'input.txt' is a file in the input tree");
    assertThat(dir.resolve("real/out")).doesNotExist();
  }

  @Test
  void collectsTheWholeWorkingDirectoryForAnEmptyOutputPath() throws IOException {
    // Then the inputs (hard links to the cache) are outputs too; collecting reads, never writes.
    ActionResult result = collect(Command.newBuilder().addOutputPaths("").build());
    Tree tree = tree(result.getOutputDirectories(0));
    assertThat(tree.getRoot().getFilesList())
        .extracting(FileNode::getName)
        .containsExactly("input.txt");
    assertThat(dir.resolve("input.txt")).hasContent("an input");
  }
}
