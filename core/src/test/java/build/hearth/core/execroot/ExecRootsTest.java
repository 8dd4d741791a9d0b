package build.hearth.core.execroot;

import static build.hearth.core.execroot.TreeMaker.fileNode;
import static build.hearth.core.execroot.TreeMaker.symlink;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import build.bazel.remote.execution.v2.Directory;
import build.hearth.api.Digest;
import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import com.google.protobuf.ByteString;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Materializing input trees into exec roots, and deleting them. */
class ExecRootsTest {
  @TempDir Path tempDir;

  private WorkerFixture fixture;
  private TreeMaker trees;

  @BeforeEach
  void setUp() {
    fixture = new WorkerFixture(tempDir);
    trees = fixture.trees;
  }

  @AfterEach
  void tearDown() {
    fixture.close();
  }

  private static Object inode(Path path) throws IOException {
    return Files.getAttribute(path, "unix:ino", LinkOption.NOFOLLOW_LINKS);
  }

  private static String read(Path path) throws IOException {
    return Files.readString(path, StandardCharsets.UTF_8);
  }

  private List<Path> execRootsOnDisk() throws IOException {
    try (Stream<Path> entries = Files.list(fixture.workDir)) {
      return entries.filter(p -> p.getFileName().toString().startsWith("exec-")).toList();
    }
  }

  @Test
  void materializesFilesDirectoriesAndSymlinksAsHardLinksToTheCache() throws IOException {
    Directory lib = Directory.newBuilder().addFiles(trees.file("util.h", "int util();")).build();
    Digest root =
        trees.put(
            Directory.newBuilder()
                .addFiles(trees.file("main.c", "int main() {}"))
                .addDirectories(trees.dir("lib", lib))
                .addSymlinks(symlink("util", "lib/util.h"))
                .build());

    try (ExecRoots roots = fixture.execRoots().build();
        ExecRoot execRoot = roots.prepare(root)) {
      Path dir = execRoot.path();
      assertThat(dir.getParent()).isEqualTo(fixture.workDir.toRealPath());
      assertThat(read(dir.resolve("main.c"))).isEqualTo("int main() {}");
      assertThat(read(dir.resolve("lib/util.h"))).isEqualTo("int util();");
      assertThat(Files.readSymbolicLink(dir.resolve("util"))).isEqualTo(Path.of("lib/util.h"));
      assertThat(read(dir.resolve("util"))).isEqualTo("int util();");

      Path cached = fixture.cachedFile(TreeMaker.digestOf("int main() {}"));
      assertThat(inode(dir.resolve("main.c"))).isEqualTo(inode(cached));
      assertThat(inode(dir.resolve("lib/util.h")))
          .isEqualTo(inode(fixture.cachedFile(TreeMaker.digestOf("int util();"))));
      // Read-only, so an action cannot write into the cache through the shared inode.
      assertThat(Files.getPosixFilePermissions(dir.resolve("main.c")))
          .doesNotContain(PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_EXECUTE);
    }
  }

  @Test
  void prepareReportsTheTimeOfEachStepAndOtherRootsReportNone() throws IOException {
    Digest root = trees.put(Directory.newBuilder().addFiles(trees.file("a", "timed")).build());
    try (ExecRoots roots = fixture.execRoots().build();
        ExecRoot execRoot = roots.prepare(root)) {
      PrepareTimes times = execRoot.prepareTimes();
      assertThat(times.materialization()).isPositive();
      assertThat(times.validation()).isPositive();
      assertThat(times.fetch().isNegative()).isFalse();
      assertThat(times.total())
          .isEqualTo(times.validation().plus(times.fetch()).plus(times.materialization()));
      assertThat(ExecRoot.existing(execRoot.path()).prepareTimes()).isEqualTo(PrepareTimes.NONE);
    }
  }

  @Test
  void fetchesOnlyTheBlobsTheCacheLacks() {
    Digest cachedAlready = trees.blob("already cached");
    fixture.cache.put(cachedAlready, ByteString.copyFromUtf8("already cached"));
    Digest root =
        trees.put(
            Directory.newBuilder()
                .addFiles(fileNode("a", cachedAlready, false))
                .addFiles(trees.file("b", "fetched"))
                .addFiles(trees.file("c", "fetched too"))
                .addFiles(trees.file("d", "fetched")) // the same blob as b
                .build());

    try (ExecRoots roots = fixture.execRoots().build()) {
      roots.prepare(root).close();
      assertThat(fixture.source.reads(cachedAlready)).isZero();
      assertThat(fixture.source.reads(TreeMaker.digestOf("fetched"))).isEqualTo(1);
      assertThat(fixture.source.reads(TreeMaker.digestOf("fetched too"))).isEqualTo(1);
      assertThat(fixture.source.reads(root)).isEqualTo(1);

      fixture.source.reset();
      roots.prepare(root).close();
      // Everything, the directory included, now comes from the local cache.
      assertThat(fixture.source.totalReads()).isZero();
    }
  }

  @Test
  void fetchesManyMissingBlobsInParallelAndVerifiesThem() {
    Directory.Builder dir = Directory.newBuilder();
    for (int i = 0; i < 50; i++) {
      dir.addFiles(trees.file(String.format("f%02d", i), "content " + i + "x".repeat(i * 1000)));
    }
    Digest root = trees.put(dir.build());
    try (ExecRoots roots = fixture.execRoots().build();
        ExecRoot execRoot = roots.prepare(root)) {
      assertThat(fixture.source.readDigests()).hasSize(51);
      for (int i = 0; i < 50; i++) {
        Digest digest = TreeMaker.digestOf("content " + i + "x".repeat(i * 1000));
        assertThat(fixture.cache.contains(digest)).isTrue();
      }
      assertThat(execRoot.path().resolve("f49")).hasContent("content 49" + "x".repeat(49_000));
    }
  }

  @Test
  void refusesABlobWhoseBytesDoNotMatchItsDigest() {
    Digest root = trees.put(Directory.newBuilder().addFiles(trees.file("f", "genuine")).build());
    fixture.source.corrupt(TreeMaker.digestOf("genuine"));
    try (ExecRoots roots = fixture.execRoots().build()) {
      assertThatThrownBy(() -> roots.prepare(root))
          .isInstanceOfSatisfying(
              HearthException.class, e -> assertThat(e.code()).isEqualTo(StatusCode.DATA_LOSS))
          .hasMessageContaining("does not match its digest");
      assertThat(fixture.cache.contains(TreeMaker.digestOf("genuine"))).isFalse();
    }
  }

  @Test
  void honoursTheExecutableBitWithoutChangingTheCachedFile() throws IOException {
    Digest script = trees.blob("#!/bin/sh\necho hi\n");
    Digest root =
        trees.put(
            Directory.newBuilder()
                .addFiles(fileNode("data.sh", script, false))
                .addFiles(fileNode("empty", Digest.EMPTY, false))
                .addFiles(fileNode("empty-tool", Digest.EMPTY, true))
                .addFiles(fileNode("tool.sh", script, true))
                .build());

    try (ExecRoots roots = fixture.execRoots().build();
        ExecRoot first = roots.prepare(root);
        ExecRoot second = roots.prepare(root)) {
      Path tool = first.path().resolve("tool.sh");
      Path data = first.path().resolve("data.sh");
      Path cached = fixture.cachedFile(script);
      assertThat(Files.getPosixFilePermissions(tool)).contains(PosixFilePermission.OWNER_EXECUTE);
      assertThat(Files.getPosixFilePermissions(data))
          .doesNotContain(PosixFilePermission.OWNER_EXECUTE);
      assertThat(Files.getPosixFilePermissions(cached))
          .doesNotContain(PosixFilePermission.OWNER_EXECUTE);
      assertThat(inode(data)).isEqualTo(inode(cached));
      assertThat(inode(tool)).isNotEqualTo(inode(cached));
      // One executable copy serves every exec root.
      assertThat(inode(second.path().resolve("tool.sh"))).isEqualTo(inode(tool));
      assertThat(read(tool)).isEqualTo("#!/bin/sh\necho hi\n");

      assertThat(Files.size(first.path().resolve("empty"))).isZero();
      assertThat(Files.getPosixFilePermissions(first.path().resolve("empty-tool")))
          .contains(PosixFilePermission.OWNER_EXECUTE);
      assertThat(Files.getPosixFilePermissions(first.path().resolve("empty")))
          .doesNotContain(PosixFilePermission.OWNER_EXECUTE);
    }
  }

  @Test
  void fetchesAgainABlobWhoseCachedFileVanished() throws IOException {
    Digest root = trees.put(Directory.newBuilder().addFiles(trees.file("f", "fragile")).build());
    Digest fragile = TreeMaker.digestOf("fragile");
    try (ExecRoots roots = fixture.execRoots().build()) {
      roots.prepare(root).close();
      Files.delete(fixture.cachedFile(fragile));
      try (ExecRoot execRoot = roots.prepare(root)) {
        assertThat(execRoot.path().resolve("f")).hasContent("fragile");
      }
      assertThat(fixture.source.reads(fragile)).isEqualTo(2);
    }
  }

  @Test
  void boundsTheExecutableCopies() throws IOException {
    Digest root =
        trees.put(
            Directory.newBuilder()
                .addFiles(trees.executable("one", "first tool, 20 bytes"))
                .addFiles(trees.executable("two", "second tool, 21 byte"))
                .build());
    try (ExecRoots roots = fixture.execRoots().maxExecutableBytes(30).build();
        ExecRoot first = roots.prepare(root);
        ExecRoot second = roots.prepare(root)) {
      for (ExecRoot execRoot : List.of(first, second)) {
        assertThat(execRoot.path().resolve("one")).hasContent("first tool, 20 bytes");
        assertThat(execRoot.path().resolve("two")).hasContent("second tool, 21 byte");
        assertThat(Files.isExecutable(execRoot.path().resolve("one"))).isTrue();
      }
      try (Stream<Path> copies = Files.list(fixture.workDir.resolve("executables"))) {
        assertThat(copies.filter(p -> !p.getFileName().toString().endsWith(".tmp"))).hasSize(1);
      }
    }
  }

  @Test
  void copiesWhenHardLinksFail() throws IOException {
    AtomicInteger attempts = new AtomicInteger();
    Digest root =
        trees.put(
            Directory.newBuilder()
                .addFiles(trees.file("a", "copied"))
                .addFiles(trees.executable("b", "copied tool"))
                .build());

    try (ExecRoots roots =
            fixture
                .execRoots()
                .linker(
                    (link, existing) -> {
                      attempts.incrementAndGet();
                      throw new java.nio.file.FileSystemException(
                          link.toString(), existing.toString(), "Invalid cross-device link");
                    })
                .build();
        ExecRoot execRoot = roots.prepare(root)) {
      Path a = execRoot.path().resolve("a");
      Path b = execRoot.path().resolve("b");
      assertThat(attempts).hasValue(2);
      assertThat(read(a)).isEqualTo("copied");
      assertThat(inode(a)).isNotEqualTo(inode(fixture.cachedFile(TreeMaker.digestOf("copied"))));
      assertThat(Files.getPosixFilePermissions(a)).isEqualTo(FileTrees.READ_ONLY);
      assertThat(Files.getPosixFilePermissions(b)).isEqualTo(FileTrees.EXECUTABLE);
      assertThat(read(b)).isEqualTo("copied tool");
    }
  }

  @Test
  void refusesABadTreeBeforeFetchingOrCreatingAnything() throws IOException {
    Directory sub =
        Directory.newBuilder()
            .addFiles(trees.file("big", "never fetched"))
            .addSymlinks(symlink("escape", "../../outside"))
            .build();
    Digest root = trees.put(Directory.newBuilder().addDirectories(trees.dir("sub", sub)).build());

    try (ExecRoots roots = fixture.execRoots().build()) {
      assertThatThrownBy(() -> roots.prepare(root))
          .isInstanceOfSatisfying(
              HearthException.class,
              e -> assertThat(e.code()).isEqualTo(StatusCode.INVALID_ARGUMENT))
          .hasMessageContaining("'sub/escape'");
      assertThat(fixture.source.reads(TreeMaker.digestOf("never fetched"))).isZero();
      assertThat(execRootsOnDisk()).isEmpty();
    }
  }

  @Test
  void reportsInputFilesMissingFromTheSourceAsAFailedPrecondition() throws IOException {
    Digest absent = TreeMaker.digestOf("never uploaded");
    Digest root =
        trees.put(
            Directory.newBuilder()
                .addFiles(fileNode("gone", absent, false))
                .addFiles(trees.file("here", "present"))
                .build());

    try (ExecRoots roots = fixture.execRoots().build()) {
      assertThatThrownBy(() -> roots.prepare(root))
          .isInstanceOfSatisfying(
              HearthException.class,
              e -> assertThat(e.code()).isEqualTo(StatusCode.FAILED_PRECONDITION))
          .hasMessageContaining("1 input file is missing from the CAS: " + absent);
      assertThat(execRootsOnDisk()).isEmpty();
      // What could be fetched is kept for the retry.
      assertThat(fixture.cache.contains(TreeMaker.digestOf("present"))).isTrue();
    }
  }

  @Test
  void closeDeletesTheExecRootWithReadOnlyDirectoriesButNotWhatSymlinksPointTo()
      throws IOException {
    Path outside = Files.createDirectories(tempDir.resolve("outside"));
    Path precious = Files.writeString(outside.resolve("precious"), "keep me");
    Digest content = trees.blob("input");
    Digest root =
        trees.put(
            Directory.newBuilder()
                .addFiles(fileNode("in", content, false))
                .addDirectories(
                    trees.dir(
                        "sub",
                        Directory.newBuilder().addFiles(fileNode("in", content, false)).build()))
                .build());

    try (ExecRoots roots = fixture.execRoots().allowAbsoluteSymlinks(true).build()) {
      ExecRoot execRoot = roots.prepare(root);
      Path dir = execRoot.path();
      // What an action might leave behind.
      Path locked = Files.createDirectories(dir.resolve("out/locked/deeper"));
      Files.writeString(locked.resolve("file"), "x");
      Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("r-x------"));
      Files.setPosixFilePermissions(
          dir.resolve("sub"), PosixFilePermissions.fromString("---------"));
      Files.createSymbolicLink(dir.resolve("out/link"), outside);
      Files.createSymbolicLink(dir.resolve("out/file-link"), precious);

      execRoot.close();
      execRoot.close();

      assertThat(dir).doesNotExist();
      assertThat(precious).hasContent("keep me");
      assertThat(fixture.cachedFile(content)).hasContent("input");
      assertThat(fixture.cache.contains(content)).isTrue();
    }
  }

  @Test
  void openingTheWorkDirectoryDeletesWhatAnEarlierRunLeft() throws IOException {
    Path leftover = Files.createDirectories(fixture.workDir.resolve("exec-123/a"));
    Files.setPosixFilePermissions(leftover, PosixFilePermissions.fromString("r-x------"));
    Path unrelated = Files.writeString(fixture.workDir.resolve("notes.txt"), "mine");

    ExecRoots roots = fixture.execRoots().build();
    assertThat(fixture.workDir.resolve("exec-123")).doesNotExist();
    assertThat(unrelated).exists();
    assertThat(roots.workDirectory().resolve("executables")).isDirectory();
    roots.close();
    assertThat(fixture.workDir.resolve("executables")).doesNotExist();
  }

  @Test
  void materializesASymlinkWhoseTargetDoesNotExistYet() throws IOException {
    Digest root =
        trees.put(
            Directory.newBuilder().addSymlinks(symlink("later", "out/made-by-action")).build());
    try (ExecRoots roots = fixture.execRoots().build();
        ExecRoot execRoot = roots.prepare(root)) {
      Path link = execRoot.path().resolve("later");
      assertThat(Files.isSymbolicLink(link)).isTrue();
      assertThat(Files.readSymbolicLink(link)).isEqualTo(Path.of("out/made-by-action"));
    }
  }
}
