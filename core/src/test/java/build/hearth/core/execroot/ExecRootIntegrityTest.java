package build.hearth.core.execroot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import build.bazel.remote.execution.v2.Directory;
import build.hearth.api.Digest;
import build.hearth.api.HearthException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The worker cache's guards: exact read-only modes on the files inputs link to, the check at close
 * of an exec root that was not handed over, and handing a root over to the action's user.
 */
class ExecRootIntegrityTest {
  @TempDir Path tempDir;

  private WorkerFixture fixture;
  private TreeMaker trees;
  private ExecRoots roots;

  @BeforeEach
  void setUp() {
    fixture = new WorkerFixture(tempDir);
    trees = fixture.trees;
    roots = fixture.execRoots().build();
  }

  @AfterEach
  void tearDown() {
    roots.close();
    fixture.close();
  }

  @Test
  void linkedFilesGetExactlyReadOnlyAndExecutableModes() throws IOException {
    Digest root =
        trees.put(
            Directory.newBuilder()
                .addFiles(trees.file("a", "plain"))
                .addFiles(trees.executable("t", "tool"))
                .build());
    Path cached = fixture.cachedFile(TreeMaker.digestOf("plain"));
    try (ExecRoot first = roots.prepare(root)) {
      assertThat(mode(cached)).isEqualTo("r--r--r--");
    }
    // A store that made its file owner-only: the next link makes it readable to an action user.
    Files.setPosixFilePermissions(cached, PosixFilePermissions.fromString("rw-------"));
    try (ExecRoot second = roots.prepare(root)) {
      assertThat(mode(second.path().resolve("a"))).isEqualTo("r--r--r--");
      assertThat(mode(second.path().resolve("t"))).isEqualTo("r-xr-xr-x");
      assertThat(second.linkedInputs().size()).isEqualTo(2);
    }
  }

  @Test
  void inputWrittenThroughItsLinkIsDroppedFromTheCacheAtClose() throws IOException {
    Digest good = TreeMaker.digestOf("good bytes");
    Digest root =
        trees.put(Directory.newBuilder().addFiles(trees.file("in", "good bytes")).build());
    ExecRoot execRoot = roots.prepare(root);
    Path input = execRoot.path().resolve("in");
    assertThat(fixture.source.reads(good)).isEqualTo(1);

    // What the genrule did: chmod u+w $<; echo tampered >> $<
    Files.setPosixFilePermissions(input, PosixFilePermissions.fromString("rw-r--r--"));
    Files.writeString(input, "tampered\n", StandardOpenOption.APPEND);
    assertThat(Files.readString(fixture.cachedFile(good))).isEqualTo("good bytestampered\n");
    execRoot.close();

    assertThat(fixture.cachedFile(good)).doesNotExist();
    assertThat(fixture.cache.findMissing(List.of(good))).containsExactly(good);
    try (ExecRoot next = roots.prepare(root)) {
      assertThat(Files.readString(next.path().resolve("in"))).isEqualTo("good bytes");
      assertThat(fixture.source.reads(good)).isEqualTo(2);
      assertThat(mode(next.path().resolve("in"))).isEqualTo("r--r--r--");
    }
  }

  @Test
  void inputWithOnlyItsModeChangedKeepsItsCacheFileMadeReadOnlyAgain() throws IOException {
    Digest digest = TreeMaker.digestOf("kept");
    Digest root = trees.put(Directory.newBuilder().addFiles(trees.file("in", "kept")).build());
    ExecRoot execRoot = roots.prepare(root);
    Files.setPosixFilePermissions(
        execRoot.path().resolve("in"), PosixFilePermissions.fromString("rw-rw-rw-"));

    execRoot.close();

    assertThat(fixture.cachedFile(digest)).exists();
    assertThat(mode(fixture.cachedFile(digest))).isEqualTo("r--r--r--");
    assertThat(fixture.cache.findMissing(List.of(digest))).isEmpty();
  }

  @Test
  void inputWhoseCacheFileTheStoreTouchedStaysCached() throws IOException {
    Digest digest = TreeMaker.digestOf("used by another action");
    Digest root =
        trees.put(
            Directory.newBuilder().addFiles(trees.file("in", "used by another action")).build());
    ExecRoot execRoot = roots.prepare(root);
    // What the filesystem store does when another action uses the blob a minute later: it sets
    // the file's modification time, its LRU order after a restart. The bytes are untouched.
    Path cached = fixture.cachedFile(digest);
    Files.setLastModifiedTime(
        cached, FileTime.fromMillis(Files.getLastModifiedTime(cached).toMillis() + 61_000));

    execRoot.close();

    assertThat(cached).exists();
    assertThat(mode(cached)).isEqualTo("r--r--r--");
    assertThat(fixture.cache.findMissing(List.of(digest))).isEmpty();
  }

  @Test
  void inputRewrittenWithItsSizeAndModeKeptIsStillDroppedAtClose() throws IOException {
    Digest digest = TreeMaker.digestOf("same size");
    Digest root = trees.put(Directory.newBuilder().addFiles(trees.file("in", "same size")).build());
    ExecRoot execRoot = roots.prepare(root);
    Path input = execRoot.path().resolve("in");
    Files.setPosixFilePermissions(input, PosixFilePermissions.fromString("rw-r--r--"));
    Files.writeString(input, "SAME SIZE");
    Files.setPosixFilePermissions(input, PosixFilePermissions.fromString("r--r--r--"));

    execRoot.close();

    assertThat(fixture.cachedFile(digest)).doesNotExist();
    assertThat(fixture.cache.findMissing(List.of(digest))).containsExactly(digest);
  }

  @Test
  void executableWrittenThroughItsLinkLosesItsCopy() throws IOException {
    Digest digest = TreeMaker.digestOf("#!/bin/sh\necho tool\n");
    Digest root =
        trees.put(
            Directory.newBuilder()
                .addFiles(trees.executable("tool", "#!/bin/sh\necho tool\n"))
                .build());
    ExecRoot execRoot = roots.prepare(root);
    Path tool = execRoot.path().resolve("tool");
    Files.setPosixFilePermissions(tool, PosixFilePermissions.fromString("rwxr-xr-x"));
    Files.writeString(tool, "#!/bin/sh\nrm -rf /\n");
    Path copy = roots.workDirectory().resolve("executables").resolve(digest.hash());
    assertThat(copy).exists();

    execRoot.close();

    assertThat(copy).doesNotExist();
    assertThat(fixture.cachedFile(digest)).exists(); // the copy's source was never exposed
    try (ExecRoot next = roots.prepare(root)) {
      assertThat(Files.readString(next.path().resolve("tool"))).isEqualTo("#!/bin/sh\necho tool\n");
      assertThat(mode(next.path().resolve("tool"))).isEqualTo("r-xr-xr-x");
    }
  }

  @Test
  void untouchedInputsStayCachedAndUnreadAgain() throws IOException {
    Digest root =
        trees.put(
            Directory.newBuilder()
                .addFiles(trees.file("a", "one"))
                .addFiles(trees.file("b", "one"))
                .addFiles(trees.executable("c", "two"))
                .build());
    roots.prepare(root).close();
    fixture.source.reset();

    try (ExecRoot again = roots.prepare(root)) {
      assertThat(again.linkedInputs().check()).isZero();
    }
    assertThat(fixture.source.totalReads()).isZero();
    assertThat(fixture.cachedFile(TreeMaker.digestOf("one"))).exists();
  }

  @Test
  void handOverGivesEveryDirectoryToTheUserAndNoFile() throws IOException {
    requireRoot();
    Directory sub = Directory.newBuilder().addFiles(trees.file("f", "in sub")).build();
    Digest root =
        trees.put(
            Directory.newBuilder()
                .addFiles(trees.file("a", "top"))
                .addDirectories(trees.dir("sub", sub))
                .build());
    try (ExecRoot execRoot = roots.prepare(root)) {
      execRoot.handOver(nobody(), nogroup());

      assertThat(execRoot.handedOver()).isTrue();
      try (Stream<Path> all = Files.walk(execRoot.path())) {
        for (Path p : all.toList()) {
          PosixFileAttributes attributes = attributes(p);
          if (attributes.isDirectory()) {
            assertThat(attributes.owner().getName()).as("%s", p).isEqualTo("nobody");
            assertThat(attributes.group().getName()).as("%s", p).isEqualTo(nogroup().getName());
          } else {
            assertThat(attributes.owner().getName()).as("%s", p).isEqualTo("root");
            assertThat(PosixFilePermissions.toString(attributes.permissions()))
                .isEqualTo("r--r--r--");
          }
        }
      }
      // The kernel now guards the cache, so close needs no check (and none is made).
      Path input = execRoot.path().resolve("a");
      Files.setPosixFilePermissions(input, PosixFilePermissions.fromString("rw-r--r--"));
      Files.writeString(input, "root may");
      execRoot.close();
      assertThat(fixture.cachedFile(TreeMaker.digestOf("top"))).exists();
    }
  }

  @Test
  void handOverNeverFollowsASymlinkOutOfTheRoot() throws IOException {
    requireRoot();
    Path outside = Files.createDirectories(tempDir.resolve("outside/inner"));
    Digest root =
        trees.put(
            Directory.newBuilder()
                .addDirectories(trees.dir("d", Directory.getDefaultInstance()))
                .addSymlinks(TreeMaker.symlink("up", "d"))
                .build());
    try (ExecRoot execRoot = roots.prepare(root)) {
      Path escape = execRoot.path().resolve("d/escape");
      Files.createSymbolicLink(escape, outside.getParent());

      execRoot.handOver(nobody(), nogroup());

      assertThat(attributes(outside.getParent()).owner().getName()).isEqualTo("root");
      assertThat(attributes(outside).owner().getName()).isEqualTo("root");
      assertThat(attributes(escape).owner().getName()).isEqualTo("root");
      assertThat(attributes(execRoot.path().resolve("up")).owner().getName()).isEqualTo("root");
      assertThat(attributes(execRoot.path().resolve("d")).owner().getName()).isEqualTo("nobody");
    }
  }

  @Test
  void handOverOfAVanishedRootNamesIt() throws IOException {
    requireRoot();
    Digest root = trees.put(Directory.getDefaultInstance());
    ExecRoot execRoot = roots.prepare(root);
    Files.delete(execRoot.path());

    assertThatThrownBy(() -> execRoot.handOver(nobody(), nogroup()))
        .isInstanceOf(HearthException.class)
        .hasMessageContaining("cannot hand the exec root " + execRoot.path() + " over to nobody:");
    execRoot.close();
  }

  /**
   * The check's cost: 10,000 distinct inputs in 500 directories, timed once and printed; not
   * asserted (the machine is shared).
   */
  @Test
  void checkCostOnTenThousandInputs() throws IOException {
    Directory.Builder top = Directory.newBuilder();
    for (int d = 0; d < 500; d++) {
      Directory.Builder dir = Directory.newBuilder();
      for (int f = 0; f < 20; f++) {
        dir.addFiles(trees.file(String.format("f%02d", f), "input " + d + "/" + f));
      }
      top.addDirectories(trees.dir(String.format("d%03d", d), dir.build()));
    }
    Digest root = trees.put(top.build());
    try (ExecRoot execRoot = roots.prepare(root)) {
      LinkedInputs linked = execRoot.linkedInputs();
      assertThat(linked.size()).isEqualTo(10_000);
      long best = Long.MAX_VALUE;
      for (int i = 0; i < 5; i++) {
        long start = System.nanoTime();
        assertThat(linked.check()).isZero();
        best = Math.min(best, System.nanoTime() - start);
      }
      // The floor: the same lstat calls alone, without comparing anything.
      List<Path> sources;
      try (Stream<Path> files = Files.walk(fixture.cacheDir.resolve("blobs"))) {
        sources = files.filter(Files::isRegularFile).toList();
      }
      long floor = Long.MAX_VALUE;
      for (int i = 0; i < 5; i++) {
        long start = System.nanoTime();
        for (Path source : sources) {
          attributes(source);
        }
        floor = Math.min(floor, System.nanoTime() - start);
      }
      long closeStart = System.nanoTime();
      execRoot.close();
      long close = System.nanoTime() - closeStart;
      System.out.printf(
          "Exec root integrity check: %d distinct inputs in 500 directories: best of 5 %.1f ms"
              + " (%.2f us per input); %d lstat calls alone %.1f ms; close with check and delete"
              + " %.1f ms%n",
          linked.size(),
          best / 1e6,
          best / 1e3 / linked.size(),
          sources.size(),
          floor / 1e6,
          close / 1e6);
    }
  }

  private static void requireRoot() {
    assertThat(System.getProperty("user.name"))
        .as("handing over needs to run as root, as CI runs the tests")
        .isEqualTo("root");
  }

  private static UserPrincipal nobody() throws IOException {
    return lookup().lookupPrincipalByName("nobody");
  }

  private static GroupPrincipal nogroup() throws IOException {
    try {
      return lookup().lookupPrincipalByGroupName("nogroup");
    } catch (java.nio.file.attribute.UserPrincipalNotFoundException e) {
      return lookup().lookupPrincipalByGroupName("nobody");
    }
  }

  private static UserPrincipalLookupService lookup() {
    return Path.of("/").getFileSystem().getUserPrincipalLookupService();
  }

  private static PosixFileAttributes attributes(Path p) throws IOException {
    return Files.readAttributes(p, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
  }

  private static String mode(Path p) throws IOException {
    return PosixFilePermissions.toString(attributes(p).permissions());
  }

  static String read(Path p) throws IOException {
    return Files.readString(p, StandardCharsets.UTF_8);
  }
}
