package build.hearth.core.execroot;

import static build.hearth.core.execroot.TreeMaker.digestOf;
import static build.hearth.core.execroot.TreeMaker.fileNode;
import static build.hearth.core.execroot.TreeMaker.symlink;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.FileNode;
import build.bazel.remote.execution.v2.NodeProperties;
import build.bazel.remote.execution.v2.NodeProperty;
import build.hearth.api.Digest;
import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Syncing a persistent worker's directory with one request's input tree after another. */
class ExecRootsSyncTest {
  @TempDir Path tempDir;

  private WorkerFixture fixture;
  private TreeMaker trees;
  private ExecRoots roots;
  private Path dir;

  @BeforeEach
  void setUp() {
    fixture = new WorkerFixture(tempDir);
    trees = fixture.trees;
    roots = fixture.execRoots().build();
    dir = tempDir.resolve("persistent/worker-1");
  }

  @AfterEach
  void tearDown() {
    roots.close();
    fixture.close();
  }

  /** A tree with a bit of everything: nested files, an executable, empty files, symlinks. */
  private Digest richTree() {
    Directory lib =
        Directory.newBuilder()
            .addFiles(trees.file("util.h", "int util();"))
            .addDirectories(
                trees.dir(
                    "deep",
                    Directory.newBuilder().addFiles(trees.file("x.h", "#define X")).build()))
            .build();
    return trees.put(
        Directory.newBuilder()
            .addFiles(fileNode("empty", Digest.EMPTY, false))
            .addFiles(trees.file("main.c", "int main() {}"))
            .addFiles(trees.executable("tool.sh", "#!/bin/sh\necho hi\n"))
            .addDirectories(trees.dir("lib", lib))
            .addSymlinks(symlink("util", "lib/util.h"))
            .build());
  }

  @Test
  void firstSyncMaterializesWhatPrepareWould() throws IOException {
    Digest root = richTree();

    SyncedInputs synced = roots.sync(root, dir);

    try (ExecRoot prepared = roots.prepare(root)) {
      assertThat(snapshot(dir)).isEqualTo(snapshot(prepared.path()));
    }
    assertThat(dir.resolve("main.c")).hasContent("int main() {}");
    assertThat(inode(dir.resolve("main.c")))
        .isEqualTo(inode(fixture.cachedFile(digestOf("int main() {}"))));
    assertThat(Files.isExecutable(dir.resolve("tool.sh"))).isTrue();
    assertThat(synced.files())
        .containsExactly(
            Map.entry("empty", Digest.EMPTY),
            Map.entry("main.c", digestOf("int main() {}")),
            Map.entry("tool.sh", digestOf("#!/bin/sh\necho hi\n")),
            Map.entry("lib/util.h", digestOf("int util();")),
            Map.entry("lib/deep/x.h", digestOf("#define X")));
    assertThat(synced.linked()).isEqualTo(6);
    assertThat(synced.kept()).isZero();
    assertThat(synced.removed()).isZero();
  }

  @Test
  void secondSyncOfTheSameTreeTouchesNothing() throws IOException {
    Digest root = richTree();
    roots.sync(root, dir);
    Map<String, Object> before = inodes(dir);
    fixture.source.reset();

    SyncedInputs again = roots.sync(root, dir);

    assertThat(again.kept()).isEqualTo(6);
    assertThat(again.linked()).isZero();
    assertThat(again.removed()).isZero();
    assertThat(inodes(dir)).isEqualTo(before);
    assertThat(fixture.source.totalReads()).isZero();
  }

  @Test
  void removesStrayFilesAndWhatTheLastRequestLeftWithoutFollowingSymlinks() throws IOException {
    Path outside = Files.createDirectories(tempDir.resolve("outside"));
    Path precious = Files.writeString(outside.resolve("precious"), "keep me");
    Digest root = richTree();
    roots.sync(root, dir);
    Files.writeString(dir.resolve("stray.txt"), "left over");
    Path out = Files.createDirectories(dir.resolve("out/classes"));
    Files.writeString(out.resolve("A.class"), "bytecode");
    Files.setPosixFilePermissions(out, PosixFilePermissions.fromString("r-x------"));
    Files.createSymbolicLink(dir.resolve("lib/escape"), outside);
    Files.createSymbolicLink(dir.resolve("lib/deep/precious"), precious);

    SyncedInputs synced = roots.sync(root, dir);

    try (ExecRoot prepared = roots.prepare(root)) {
      assertThat(snapshot(dir)).isEqualTo(snapshot(prepared.path()));
    }
    assertThat(synced.removed()).isEqualTo(6); // stray, out, classes, A.class and two symlinks
    assertThat(synced.kept()).isEqualTo(6);
    assertThat(precious).hasContent("keep me");
    assertThat(outside.resolve("precious")).exists();
  }

  @Test
  void replacesAFileRewrittenInPlaceAndRepairsTheCacheItShared() throws IOException {
    Digest root = trees.put(Directory.newBuilder().addFiles(trees.file("a", "original")).build());
    Digest original = digestOf("original");
    roots.sync(root, dir);
    Path a = dir.resolve("a");
    // What a misbehaving tool might do; the hard link makes it write into the cache as well.
    Files.setPosixFilePermissions(a, PosixFilePermissions.fromString("rw-------"));
    Files.writeString(a, "ORIGINAL");
    assertThat(fixture.cachedFile(original)).hasContent("ORIGINAL");

    SyncedInputs synced = roots.sync(root, dir);

    assertThat(a).hasContent("original");
    assertThat(fixture.cachedFile(original)).hasContent("original");
    assertThat(inode(a)).isEqualTo(inode(fixture.cachedFile(original)));
    assertThat(Files.getPosixFilePermissions(a)).doesNotContain(PosixFilePermission.OWNER_WRITE);
    assertThat(fixture.source.reads(original)).isEqualTo(2);
    assertThat(synced.linked()).isEqualTo(1);
    assertThat(synced.removed()).isEqualTo(1);
  }

  @Test
  void onlyMakesReadOnlyAgainAFileWhoseModeAloneChanged() throws IOException {
    Digest root = trees.put(Directory.newBuilder().addFiles(trees.file("a", "intact")).build());
    roots.sync(root, dir);
    Path a = dir.resolve("a");
    Object inode = inode(a);
    Files.setPosixFilePermissions(a, PosixFilePermissions.fromString("rwxrw-rw-"));

    SyncedInputs synced = roots.sync(root, dir);

    assertThat(synced.kept()).isEqualTo(1);
    assertThat(inode(a)).isEqualTo(inode);
    assertThat(Files.getPosixFilePermissions(a)).isEqualTo(FileTrees.READ_ONLY);
    assertThat(fixture.source.reads(digestOf("intact"))).isEqualTo(1);
  }

  @Test
  void makesAgainAnExecutableCopyWrittenThroughItsLink() throws IOException {
    Digest root =
        trees.put(Directory.newBuilder().addFiles(trees.executable("tool", "#!/bin/true")).build());
    roots.sync(root, dir);
    Path tool = dir.resolve("tool");
    Files.setPosixFilePermissions(tool, PosixFilePermissions.fromString("rwx------"));
    Files.writeString(tool, "#!/bin/bad");

    roots.sync(root, dir);

    assertThat(tool).hasContent("#!/bin/true");
    assertThat(Files.getPosixFilePermissions(tool)).isEqualTo(FileTrees.EXECUTABLE);
    assertThat(fixture.cachedFile(digestOf("#!/bin/true"))).hasContent("#!/bin/true");
  }

  @Test
  void recreatesAnEmptyInputThatWasWritten() throws IOException {
    Digest root =
        trees.put(Directory.newBuilder().addFiles(fileNode("e", Digest.EMPTY, false)).build());
    roots.sync(root, dir);
    Path e = dir.resolve("e");
    Files.setPosixFilePermissions(e, PosixFilePermissions.fromString("rw-------"));
    Files.writeString(e, "not empty");

    SyncedInputs synced = roots.sync(root, dir);

    assertThat(Files.size(e)).isZero();
    assertThat(Files.getPosixFilePermissions(e)).isEqualTo(FileTrees.READ_ONLY);
    assertThat(synced.linked()).isEqualTo(1);
  }

  @Test
  void relinksAFileWhoseDigestOrExecutableBitChanged() throws IOException {
    Digest first =
        trees.put(
            Directory.newBuilder()
                .addFiles(trees.file("a", "one"))
                .addFiles(trees.file("b", "same"))
                .addFiles(trees.file("c", "#!/bin/sh"))
                .build());
    Digest second =
        trees.put(
            Directory.newBuilder()
                .addFiles(trees.file("a", "two"))
                .addFiles(trees.file("b", "same"))
                .addFiles(trees.executable("c", "#!/bin/sh"))
                .build());
    roots.sync(first, dir);
    Object b = inode(dir.resolve("b"));

    SyncedInputs synced = roots.sync(second, dir);

    assertThat(dir.resolve("a")).hasContent("two");
    assertThat(inode(dir.resolve("a"))).isEqualTo(inode(fixture.cachedFile(digestOf("two"))));
    assertThat(inode(dir.resolve("b"))).isEqualTo(b);
    assertThat(Files.isExecutable(dir.resolve("c"))).isTrue();
    assertThat(synced.kept()).isEqualTo(1);
    assertThat(synced.linked()).isEqualTo(2);
    assertThat(synced.removed()).isEqualTo(2);

    roots.sync(first, dir);
    assertThat(dir.resolve("a")).hasContent("one");
    assertThat(Files.isExecutable(dir.resolve("c"))).isFalse();
  }

  @Test
  void swapsFilesAndDirectories() throws IOException {
    Directory inner = Directory.newBuilder().addFiles(trees.file("in", "inside")).build();
    Digest first =
        trees.put(
            Directory.newBuilder()
                .addFiles(trees.file("x", "x is a file"))
                .addDirectories(trees.dir("y", inner))
                .build());
    Digest second =
        trees.put(
            Directory.newBuilder()
                .addFiles(trees.file("y", "y is a file"))
                .addDirectories(trees.dir("x", inner))
                .build());

    roots.sync(first, dir);
    roots.sync(second, dir);
    assertThat(dir.resolve("y")).isRegularFile().hasContent("y is a file");
    assertThat(dir.resolve("x/in")).hasContent("inside");

    roots.sync(first, dir);
    try (ExecRoot prepared = roots.prepare(first)) {
      assertThat(snapshot(dir)).isEqualTo(snapshot(prepared.path()));
    }
  }

  @Test
  void followsSymlinkChangesAndNeverWalksIntoOne() throws IOException {
    Path outside = Files.createDirectories(tempDir.resolve("outside"));
    Files.writeString(outside.resolve("precious"), "keep me");
    Digest first =
        trees.put(
            Directory.newBuilder()
                .addFiles(trees.file("a", "A"))
                .addFiles(trees.file("b", "B"))
                .addSymlinks(symlink("link", "a"))
                .addSymlinks(symlink("same", "b"))
                .addSymlinks(symlink("was-link", "a"))
                .build());
    Directory sub = Directory.newBuilder().addFiles(trees.file("precious", "mine")).build();
    Digest second =
        trees.put(
            Directory.newBuilder()
                .addFiles(trees.file("a", "A"))
                .addFiles(trees.file("b", "B"))
                .addFiles(trees.file("was-link", "now a file"))
                .addDirectories(trees.dir("z", sub))
                .addSymlinks(symlink("link", "b"))
                .addSymlinks(symlink("same", "b"))
                .build());
    roots.sync(first, dir);
    Object same = inode(dir.resolve("same"));
    // Left by an action where the next tree wants a directory.
    Files.createSymbolicLink(dir.resolve("z"), outside);

    SyncedInputs synced = roots.sync(second, dir);

    assertThat(Files.readSymbolicLink(dir.resolve("link"))).isEqualTo(Path.of("b"));
    assertThat(inode(dir.resolve("same"))).isEqualTo(same);
    assertThat(dir.resolve("was-link")).isRegularFile().hasContent("now a file");
    assertThat(Files.isSymbolicLink(dir.resolve("z"))).isFalse();
    assertThat(dir.resolve("z/precious")).hasContent("mine");
    assertThat(outside.resolve("precious")).hasContent("keep me");
    assertThat(synced.kept()).isEqualTo(3); // a, b and same
  }

  @Test
  void repairsADirectoryLeftInAnyState() throws IOException {
    Digest root = richTree();
    roots.sync(root, dir);
    // A request that crashed halfway through rearranging its inputs.
    Files.delete(dir.resolve("main.c"));
    Files.createDirectories(dir.resolve("main.c/nested"));
    Files.delete(dir.resolve("lib/util.h"));
    Files.setPosixFilePermissions(dir.resolve("lib"), PosixFilePermissions.fromString("r-x------"));
    Files.setPosixFilePermissions(
        dir.resolve("lib/deep"), PosixFilePermissions.fromString("---------"));
    Files.delete(dir.resolve("util"));
    Files.writeString(dir.resolve("util"), "a file where a symlink was");

    roots.sync(root, dir);

    try (ExecRoot prepared = roots.prepare(root)) {
      assertThat(snapshot(dir)).isEqualTo(snapshot(prepared.path()));
    }
  }

  @Test
  void leavesKeptPathsAloneAndSyncsAroundThem() throws IOException {
    Digest root = richTree();
    roots.sync(root, dir);
    Path sandbox = Files.createDirectories(dir.resolve("_sandbox/1"));
    Files.writeString(sandbox.resolve("busy"), "another request's file");
    Path nested = Files.createDirectories(dir.resolve("lib/_cache"));
    Files.writeString(nested.resolve("index"), "tool cache");
    Path onTheWay = Files.createDirectories(dir.resolve("state/keep"));
    Files.writeString(onTheWay.resolve("f"), "kept");
    Files.writeString(dir.resolve("state/stray"), "not kept");

    SyncedInputs synced =
        roots.sync(root, dir, Set.of("_sandbox", "lib/_cache", "state/keep", "absent/path"));

    assertThat(sandbox.resolve("busy")).hasContent("another request's file");
    assertThat(nested.resolve("index")).hasContent("tool cache");
    assertThat(onTheWay.resolve("f")).hasContent("kept");
    assertThat(dir.resolve("state/stray")).doesNotExist();
    assertThat(dir.resolve("absent")).doesNotExist();
    assertThat(synced.removed()).isEqualTo(1);
    assertThat(synced.kept()).isEqualTo(6);
    assertThat(synced.files()).doesNotContainKeys("_sandbox/1/busy", "lib/_cache/index");

    // Without the keep list they are strays like any other.
    roots.sync(root, dir);
    assertThat(dir.resolve("_sandbox")).doesNotExist();
    assertThat(dir.resolve("lib/_cache")).doesNotExist();
  }

  @Test
  void refusesATreeWithAnInputAtOrAboveAKeptPath() throws IOException {
    Digest atKept =
        trees.put(
            Directory.newBuilder()
                .addDirectories(
                    trees.dir(
                        "_sandbox",
                        Directory.newBuilder().addFiles(trees.file("f", "input")).build()))
                .build());
    Digest aboveKept = trees.put(Directory.newBuilder().addFiles(trees.file("lib", "a")).build());
    Files.createDirectories(dir.resolve("_sandbox/1"));

    assertThatThrownBy(() -> roots.sync(atKept, dir, Set.of("_sandbox")))
        .isInstanceOfSatisfying(
            HearthException.class, e -> assertThat(e.code()).isEqualTo(StatusCode.INVALID_ARGUMENT))
        .hasMessageContaining("'_sandbox'");
    assertThatThrownBy(() -> roots.sync(aboveKept, dir, Set.of("lib/_cache")))
        .isInstanceOfSatisfying(
            HearthException.class, e -> assertThat(e.code()).isEqualTo(StatusCode.INVALID_ARGUMENT))
        .hasMessageContaining("'lib'");
    assertThat(dir.resolve("_sandbox/1")).isDirectory();
  }

  @Test
  void refusesMalformedKeptPaths() {
    Digest root = richTree();
    for (String bad : List.of("", "/abs", "a/../b", "a//b", ".", "a/")) {
      assertThatThrownBy(() -> roots.sync(root, dir, Set.of(bad)))
          .as(bad)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("kept path");
    }
  }

  @Test
  void refusesAMalformedTreeWithoutTouchingTheDirectory() throws IOException {
    Digest good = richTree();
    roots.sync(good, dir);
    Files.writeString(dir.resolve("stray.txt"), "still here after the refusal");
    Map<String, String> before = snapshot(dir);
    Digest escaping =
        trees.put(
            Directory.newBuilder()
                .addFiles(trees.file("never-fetched", "big"))
                .addSymlinks(symlink("escape", "../outside"))
                .build());
    Digest missingBlob =
        trees.put(
            Directory.newBuilder()
                .addFiles(fileNode("gone", digestOf("never uploaded"), false))
                .build());

    assertThatThrownBy(() -> roots.sync(escaping, dir))
        .isInstanceOfSatisfying(
            HearthException.class, e -> assertThat(e.code()).isEqualTo(StatusCode.INVALID_ARGUMENT))
        .hasMessageContaining("'escape'");
    assertThatThrownBy(() -> roots.sync(missingBlob, dir))
        .isInstanceOfSatisfying(
            HearthException.class,
            e -> assertThat(e.code()).isEqualTo(StatusCode.FAILED_PRECONDITION))
        .hasMessageContaining("missing from the CAS");

    assertThat(snapshot(dir)).isEqualTo(before);
    assertThat(fixture.source.reads(digestOf("big"))).isZero();
  }

  @Test
  void reportsToolInputsAndFilesInTreeOrder() {
    NodeProperties toolInput =
        NodeProperties.newBuilder()
            .addProperties(NodeProperty.newBuilder().setName("bazel_tool_input"))
            .build();
    FileNode jar =
        trees.file("JavaBuilder.jar", "jar").toBuilder().setNodeProperties(toolInput).build();
    FileNode java =
        trees.executable("java", "elf").toBuilder().setNodeProperties(toolInput).build();
    Directory bin = Directory.newBuilder().addFiles(java).build();
    Digest root =
        trees.put(
            Directory.newBuilder()
                .addFiles(jar)
                .addFiles(trees.file("Main.java", "class Main {}"))
                .addFiles(
                    trees.file("z.params", "-d out").toBuilder()
                        .setNodeProperties(
                            NodeProperties.newBuilder()
                                .addProperties(NodeProperty.newBuilder().setName("other"))))
                .addDirectories(trees.dir("bin", bin))
                .build());

    SyncedInputs synced = roots.sync(root, dir);

    assertThat(synced.files().keySet())
        .containsExactly("JavaBuilder.jar", "Main.java", "z.params", "bin/java");
    assertThat(synced.toolInputs()).containsExactly("JavaBuilder.jar", "bin/java");
  }

  @Test
  void createsTheDirectoryButRefusesASymlinkInItsPlace() throws IOException {
    Digest root = richTree();
    Path target = Files.createDirectories(tempDir.resolve("real"));
    Path link = Files.createSymbolicLink(tempDir.resolve("link"), target);

    assertThatThrownBy(() -> roots.sync(root, link))
        .isInstanceOfSatisfying(
            HearthException.class,
            e -> assertThat(e.code()).isEqualTo(StatusCode.FAILED_PRECONDITION))
        .hasMessageContaining("symlink");
    try (Stream<Path> entries = Files.list(target)) {
      assertThat(entries).isEmpty();
    }
    roots.sync(root, dir);
    assertThat(dir.resolve("lib/deep/x.h")).hasContent("#define X");
  }

  @Test
  void copiesAgainAtEverySyncWhenLinksFail() throws IOException {
    Digest root = trees.put(Directory.newBuilder().addFiles(trees.file("a", "copied")).build());
    try (ExecRoots copying =
        fixture
            .execRoots()
            .workDirectory(tempDir.resolve("other-work"))
            .linker(
                (link, existing) -> {
                  throw new java.nio.file.FileSystemException(
                      link.toString(), existing.toString(), "Invalid cross-device link");
                })
            .build()) {
      copying.sync(root, dir);
      SyncedInputs again = copying.sync(root, dir);
      assertThat(dir.resolve("a")).hasContent("copied");
      assertThat(again.linked()).isEqualTo(1);
      assertThat(again.removed()).isEqualTo(1);
    }
  }

  @Test
  void syncsSeveralDirectoriesAtOnce() throws Exception {
    Directory.Builder big = Directory.newBuilder();
    for (int i = 0; i < 200; i++) {
      big.addFiles(trees.file(String.format("f%03d", i), "content " + i));
    }
    Digest root =
        trees.put(
            Directory.newBuilder()
                .addDirectories(trees.dir("big", big.build()))
                .addFiles(trees.executable("tool", "#!/bin/sh"))
                .build());
    // Not the fixture's executor: that one runs the fetches the syncs wait for.
    ExecutorService syncs = Executors.newFixedThreadPool(4);
    try {
      List<Future<SyncedInputs>> results = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        Path each = tempDir.resolve("persistent/worker-" + i);
        results.add(syncs.submit(() -> roots.sync(root, each)));
      }
      for (Future<SyncedInputs> result : results) {
        assertThat(result.get().linked()).isEqualTo(201);
      }
    } finally {
      syncs.shutdownNow();
    }
    Map<String, String> first = snapshot(tempDir.resolve("persistent/worker-0"));
    for (int i = 1; i < 4; i++) {
      assertThat(snapshot(tempDir.resolve("persistent/worker-" + i))).isEqualTo(first);
    }
  }

  /** Every entry below {@code root}: its kind, mode and bytes, and the inode of non-empty files. */
  static Map<String, String> snapshot(Path root) throws IOException {
    Map<String, String> entries = new TreeMap<>();
    try (Stream<Path> walk = Files.walk(root)) {
      for (Path path : (Iterable<Path>) walk::iterator) {
        if (path.equals(root)) {
          continue;
        }
        String name = root.relativize(path).toString();
        BasicFileAttributes attributes =
            Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        if (attributes.isSymbolicLink()) {
          entries.put(name, "symlink to " + Files.readSymbolicLink(path));
        } else if (attributes.isDirectory()) {
          entries.put(name, "directory");
        } else {
          entries.put(
              name,
              "file "
                  + PosixFilePermissions.toString(Files.getPosixFilePermissions(path))
                  + " '"
                  + Files.readString(path, StandardCharsets.UTF_8)
                  + "'"
                  + (attributes.size() > 0 ? " inode " + inode(path) : ""));
        }
      }
    }
    return entries;
  }

  /** The inode of every entry below {@code root}, directories and symlinks included. */
  private static Map<String, Object> inodes(Path root) throws IOException {
    Map<String, Object> inodes = new TreeMap<>();
    try (Stream<Path> walk = Files.walk(root)) {
      for (Path path : (Iterable<Path>) walk::iterator) {
        inodes.put(root.relativize(path).toString(), inode(path));
      }
    }
    return inodes;
  }

  private static Object inode(Path path) throws IOException {
    return Files.getAttribute(path, "unix:ino", LinkOption.NOFOLLOW_LINKS);
  }
}
