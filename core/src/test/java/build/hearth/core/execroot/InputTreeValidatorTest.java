package build.hearth.core.execroot;

import static build.hearth.core.execroot.TreeMaker.fileNode;
import static build.hearth.core.execroot.TreeMaker.symlink;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.DirectoryNode;
import build.hearth.api.Digest;
import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import build.hearth.core.Hearth;
import build.hearth.core.cas.DirectoryBlobs;
import com.google.protobuf.ByteString;
import org.assertj.core.api.AbstractThrowableAssert;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class InputTreeValidatorTest {
  private final Hearth hearth = Hearth.newBuilder().build();
  private final TreeMaker trees = new TreeMaker(hearth.cas());

  @AfterEach
  void close() {
    hearth.close();
  }

  private InputTree validate(Directory root) {
    return validator(false).validate(trees.put(root));
  }

  private InputTreeValidator validator(boolean allowAbsolute) {
    return validator(allowAbsolute, DirectoryBlobs.DEFAULTS);
  }

  private InputTreeValidator validator(boolean allowAbsolute, DirectoryBlobs directories) {
    return new InputTreeValidator(
        DirectorySource.cached(hearth.cas(), hearth.cas()), allowAbsolute, 1_000_000, directories);
  }

  private AbstractThrowableAssert<?, ? extends Throwable> assertRefused(Directory root) {
    return assertThatThrownBy(() -> validate(root))
        .isInstanceOf(HearthException.class)
        .satisfies(
            e -> assertThat(((HearthException) e).code()).isEqualTo(StatusCode.INVALID_ARGUMENT));
  }

  @Test
  void aDirectoryOverTheSizeCapIsRefusedBeforeItIsFetched() {
    Digest huge =
        new Digest(
            "1111111111111111111111111111111111111111111111111111111111111111",
            DirectoryBlobs.DEFAULT_MAX_DIRECTORY_BYTES + 1);
    Directory root =
        Directory.newBuilder()
            .addDirectories(DirectoryNode.newBuilder().setName("big").setDigest(huge.toProto()))
            .build();
    assertRefused(root)
        .hasMessageContaining("input tree: 'big'")
        .hasMessageContaining(huge.toString())
        .hasMessageContaining(Long.toString(DirectoryBlobs.DEFAULT_MAX_DIRECTORY_BYTES));
  }

  @Test
  void aConfiguredDirectoryCapIsHonouredAndNamed() {
    // A real directory of a few hundred bytes, against a cap of 1 KiB: accepted at 1 KiB, refused
    // once it grows past it.
    Directory.Builder big = Directory.newBuilder();
    for (int i = 0; i < 20; i++) {
      big.addFiles(trees.file(String.format("file-%02d.txt", i), "content " + i));
    }
    Directory child = big.build();
    assertThat(child.getSerializedSize()).isGreaterThan(1024);
    Directory root =
        Directory.newBuilder()
            .addDirectories(
                DirectoryNode.newBuilder().setName("lib").setDigest(trees.put(child).toProto()))
            .build();
    Digest rootDigest = trees.put(root);

    assertThat(validator(false).validate(rootDigest).files()).hasSize(20);
    assertThatThrownBy(
            () -> validator(false, DirectoryBlobs.forDirectories(1024)).validate(rootDigest))
        .isInstanceOfSatisfying(
            HearthException.class,
            e -> {
              assertThat(e.code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
              assertThat(e.getMessage())
                  .contains("input tree: 'lib'", "maxDirectorySize is 1.0 KiB");
            });
  }

  @Test
  void acceptsAWellFormedTreeAndCollectsDistinctFileDigests() {
    Directory lib =
        Directory.newBuilder()
            .addFiles(trees.file("a.txt", "shared"))
            .addFiles(fileNode("empty", Digest.EMPTY, false))
            .build();
    Directory root =
        Directory.newBuilder()
            .addFiles(trees.file("a.txt", "shared"))
            .addFiles(trees.executable("run.sh", "#!/bin/sh\n"))
            .addDirectories(trees.dir("lib", lib))
            .addDirectories(trees.dir("lib2", lib))
            .addSymlinks(symlink("link", "lib/a.txt"))
            .build();

    InputTree tree = validate(root);

    assertThat(tree.files())
        .containsExactlyInAnyOrder(TreeMaker.digestOf("shared"), TreeMaker.digestOf("#!/bin/sh\n"));
    assertThat(tree.directories()).hasSize(2);
    // 5 at the root, 2 in each copy of lib.
    assertThat(tree.entries()).isEqualTo(9);
  }

  @Test
  void refusesDotDotAsADirectoryName() {
    Directory src =
        Directory.newBuilder()
            .addDirectories(trees.dir("..", Directory.getDefaultInstance()))
            .build();
    assertRefused(Directory.newBuilder().addDirectories(trees.dir("src", src)).build())
        .hasMessage("input tree: 'src/..': name '..' is not a single path component");
  }

  @Test
  void refusesDotAsAFileName() {
    assertRefused(Directory.newBuilder().addFiles(trees.file(".", "x")).build())
        .hasMessageContaining("'.'")
        .hasMessageContaining("is not a single path component");
  }

  @Test
  void refusesAnEmptyName() {
    Directory sub = Directory.newBuilder().addSymlinks(symlink("", "x")).build();
    assertRefused(Directory.newBuilder().addDirectories(trees.dir("sub", sub)).build())
        .hasMessage("input tree: 'sub': a symlink has an empty name");
  }

  @Test
  void refusesANameWithASlash() {
    assertRefused(Directory.newBuilder().addFiles(trees.file("a/b", "x")).build())
        .hasMessageContaining("'a/b'")
        .hasMessageContaining("contains '/'");
  }

  @Test
  void refusesANameWithNul() {
    assertRefused(Directory.newBuilder().addFiles(trees.file("a\0b", "x")).build())
        .hasMessageContaining("NUL");
  }

  @Test
  void refusesADuplicateEntry() {
    assertRefused(
            Directory.newBuilder()
                .addFiles(trees.file("same", "one"))
                .addFiles(trees.file("same", "two"))
                .build())
        .hasMessage("input tree: 'same': file 'same' is listed twice");
  }

  @Test
  void refusesUnsortedEntries() {
    Directory empty = Directory.getDefaultInstance();
    assertRefused(
            Directory.newBuilder()
                .addDirectories(trees.dir("b", empty))
                .addDirectories(trees.dir("a", empty))
                .build())
        .hasMessageContaining("directories are not sorted by name: 'b' comes before 'a'");
  }

  @Test
  void sortsByCodePointNotByUtf16Unit() {
    // U+E000 sorts before U+1F600 by code point (and UTF-8 bytes), after it by UTF-16 unit.
    Directory root =
        Directory.newBuilder()
            .addFiles(trees.file("\uE000", "x"))
            .addFiles(trees.file("\uD83D\uDE00", "y"))
            .build();
    assertThat(validate(root).files()).hasSize(2);
  }

  @Test
  void refusesANameUsedByAFileAndADirectory() {
    assertRefused(
            Directory.newBuilder()
                .addFiles(trees.file("x", "file"))
                .addDirectories(trees.dir("x", Directory.getDefaultInstance()))
                .build())
        .hasMessage(
            "input tree: 'x': name 'x' is used by more than one of files, directories and symlinks");
  }

  @Test
  void refusesASymlinkThatClimbsOutOfTheExecRoot() {
    Directory sub = Directory.newBuilder().addSymlinks(symlink("up", "../../etc/passwd")).build();
    assertRefused(Directory.newBuilder().addDirectories(trees.dir("sub", sub)).build())
        .hasMessage(
            "input tree: 'sub/up': symlink target '../../etc/passwd' points outside the exec root");
  }

  @Test
  void acceptsASymlinkThatClimbsButStaysInside() {
    Directory sub = Directory.newBuilder().addSymlinks(symlink("up", "../x/../y")).build();
    assertThat(validate(Directory.newBuilder().addDirectories(trees.dir("sub", sub)).build()))
        .isNotNull();
  }

  @Test
  void refusesAnAbsoluteSymlinkUnlessAllowed() {
    Directory root = Directory.newBuilder().addSymlinks(symlink("passwd", "/etc/passwd")).build();
    assertRefused(root)
        .hasMessage(
            "input tree: 'passwd': symlink target '/etc/passwd' is absolute, and this worker allows"
                + " only relative ones");
    assertThat(validator(true).validate(trees.put(root)).entries()).isEqualTo(1);
  }

  @Test
  void refusesAnEscapeThroughAnotherSymlink() {
    // Each target alone stays inside; followed by the kernel, 'x' is the exec root's parent.
    Directory root =
        Directory.newBuilder()
            .addSymlinks(symlink("d", "."))
            .addSymlinks(symlink("x", "d/.."))
            .build();
    assertRefused(root).hasMessageContaining("'x': symlink target 'd/..' points outside");
  }

  @Test
  void refusesAnEscapeThroughAnAncestorsSibling() {
    // a/deep/back leads to the root; b/hop goes through it and one level further up, although
    // read as text it ends in a/deep.
    Directory deep = Directory.newBuilder().addSymlinks(symlink("back", "../..")).build();
    Directory a = Directory.newBuilder().addDirectories(trees.dir("deep", deep)).build();
    Directory b = Directory.newBuilder().addSymlinks(symlink("hop", "../a/deep/back/..")).build();
    Directory root =
        Directory.newBuilder()
            .addDirectories(trees.dir("a", a))
            .addDirectories(trees.dir("b", b))
            .build();
    assertRefused(root)
        .hasMessageContaining("'b/hop': symlink target '../a/deep/back/..' points outside");
  }

  @Test
  void followsSymlinkLoopsWithoutHanging() {
    Directory root =
        Directory.newBuilder()
            .addSymlinks(symlink("a", "b"))
            .addSymlinks(symlink("b", "a"))
            .build();
    assertThat(validate(root).entries()).isEqualTo(2);
  }

  @Test
  void refusesAnEmptySymlinkTarget() {
    assertRefused(Directory.newBuilder().addSymlinks(symlink("l", "")).build())
        .hasMessage("input tree: 'l': symlink has an empty target");
  }

  @Test
  void refusesAMalformedDigestNamingThePath() {
    Directory sub =
        Directory.newBuilder()
            .addFiles(
                build.bazel.remote.execution.v2.FileNode.newBuilder()
                    .setName("f")
                    .setDigest(
                        build.bazel.remote.execution.v2.Digest.newBuilder().setHash("nothex")))
            .build();
    assertRefused(Directory.newBuilder().addDirectories(trees.dir("sub", sub)).build())
        .hasMessageStartingWith("input tree: 'sub/f': digest hash 'nothex'");
  }

  @Test
  void refusesABlobThatIsNotADirectory() {
    Digest garbage = hearth.cas().put(ByteString.copyFrom(new byte[] {(byte) 0xff, 0x01}));
    DirectoryNode node =
        DirectoryNode.newBuilder().setName("sub").setDigest(garbage.toProto()).build();
    assertRefused(Directory.newBuilder().addDirectories(node).build())
        .hasMessageStartingWith(
            "input tree: 'sub': blob " + garbage + " is not a Directory message");
  }

  @Test
  void listsMissingDirectoriesAsAFailedPrecondition() {
    Directory absent = Directory.newBuilder().addFiles(trees.file("f", "x")).build();
    Digest absentDigest = Digest.of(absent.toByteArray());
    DirectoryNode node =
        DirectoryNode.newBuilder().setName("gone").setDigest(absentDigest.toProto()).build();
    Directory root = Directory.newBuilder().addDirectories(node).build();

    assertThatThrownBy(() -> validate(root))
        .isInstanceOfSatisfying(
            HearthException.class,
            e -> assertThat(e.code()).isEqualTo(StatusCode.FAILED_PRECONDITION))
        .hasMessageContaining("1 directory is missing from the CAS")
        .hasMessageContaining(absentDigest + " ('gone')");
  }

  @Test
  void refusesATreeThatRepeatsItselfIntoTooManyEntries() {
    // Each level holds the one below twice: 2^80 entries from 81 small directories.
    Directory level = Directory.newBuilder().addFiles(trees.file("f", "x")).build();
    for (int i = 0; i < 80; i++) {
      level =
          Directory.newBuilder()
              .addDirectories(trees.dir("a", level))
              .addDirectories(trees.dir("b", level))
              .build();
    }
    Directory root = level;
    assertThatThrownBy(() -> validate(root))
        .isInstanceOfSatisfying(
            HearthException.class,
            e -> assertThat(e.code()).isEqualTo(StatusCode.RESOURCE_EXHAUSTED))
        .hasMessageContaining("more than the 1000000 a worker materializes");
  }

  @Test
  void refusesATreeNestedTooDeep() {
    Directory level = Directory.getDefaultInstance();
    for (int i = 0; i <= InputTreeValidator.MAX_DEPTH; i++) {
      level = Directory.newBuilder().addDirectories(trees.dir("d", level)).build();
    }
    Directory root = level;
    assertRefused(root).hasMessageContaining("nested more than 1000 deep");
  }
}
