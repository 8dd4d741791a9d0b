package build.hearth.core.execroot;

import static build.hearth.core.execroot.TreeMaker.digestOf;
import static build.hearth.core.execroot.TreeMaker.fileNode;
import static build.hearth.core.execroot.TreeMaker.symlink;
import static org.assertj.core.api.Assertions.assertThat;

import build.bazel.remote.execution.v2.Directory;
import build.hearth.api.Digest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A persistent worker's sync trusting what it recorded at the last sync: every way a tool or the
 * cache could change an entry behind the record must still be caught.
 *
 * <p>The trust age is zero here, so a sync records whatever changed before it started; each test
 * waits for the file system's clock to move past the entries' change times ({@link #tick}) before
 * the sync that records, as the default age of two seconds does in production.
 */
class ExecRootsSyncRecordTest {
  @TempDir Path tempDir;

  private WorkerFixture fixture;
  private TreeMaker trees;
  private ExecRoots roots;
  private Path dir;
  private Digest root;

  @BeforeEach
  void setUp() throws IOException {
    fixture = new WorkerFixture(tempDir);
    trees = fixture.trees;
    roots = fixture.execRoots().syncTrustAge(Duration.ZERO).build();
    dir = tempDir.resolve("persistent/worker-1");
    Directory deep = Directory.newBuilder().addFiles(trees.file("x.h", "#define X")).build();
    Directory lib =
        Directory.newBuilder()
            .addFiles(trees.file("util.h", "int util();"))
            .addDirectories(trees.dir("deep", deep))
            .build();
    root =
        trees.put(
            Directory.newBuilder()
                .addFiles(fileNode("empty", Digest.EMPTY, false))
                .addFiles(trees.file("main.c", "int main() {}"))
                .addFiles(trees.executable("tool.sh", "#!/bin/sh\necho hi\n"))
                .addDirectories(trees.dir("lib", lib))
                .addSymlinks(symlink("util", "lib/util.h"))
                .build());
  }

  @AfterEach
  void tearDown() {
    roots.close();
    fixture.close();
  }

  /**
   * Syncs {@link #dir} twice, the second time recording every entry, as a worker's next request.
   */
  private void syncAndRecord(Path directory) throws IOException {
    roots.sync(root, directory);
    tick();
    SyncedInputs recording = roots.sync(root, directory);
    assertThat(recording.kept()).isEqualTo(6);
    assertThat(recording.linked()).isZero();
  }

  /** Waits until the file system's timestamps are past every change made so far. */
  private void tick() throws IOException {
    Path probe = tempDir.resolve("clock-probe");
    Files.writeString(probe, "0");
    FileTime start = Files.getLastModifiedTime(probe);
    while (!Files.getLastModifiedTime(probe).toInstant().isAfter(start.toInstant())) {
      try {
        Thread.sleep(2);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
      Files.writeString(probe, "1");
    }
  }

  /** What a clean sync into a fresh directory gives, to compare a repaired directory with. */
  private void assertLikeAFreshSync(Path directory) throws IOException {
    Path fresh = tempDir.resolve("fresh");
    roots.sync(root, fresh);
    assertThat(ExecRootsSyncTest.snapshot(directory)).isEqualTo(ExecRootsSyncTest.snapshot(fresh));
  }

  @Test
  void anUnchangedTreeIsCheckedOnTheRecordAlone() throws IOException {
    syncAndRecord(dir);
    fixture.source.reset();

    SyncedInputs synced = roots.sync(root, dir);

    assertThat(synced.kept()).isEqualTo(6);
    assertThat(synced.trusted()).isEqualTo(6);
    assertThat(synced.unlisted()).isEqualTo(3); // the root, lib and lib/deep
    assertThat(synced.linked()).isZero();
    assertThat(synced.removed()).isZero();
    assertThat(fixture.source.totalReads()).isZero();
    assertLikeAFreshSync(dir);
  }

  @Test
  void relinksAFileAToolReplacedWithTheSameBytesAndMode() throws IOException {
    syncAndRecord(dir);
    Path util = dir.resolve("lib/util.h");
    Path replacement = Files.writeString(dir.resolve("lib/.tmp"), "int util();");
    Files.setPosixFilePermissions(replacement, Files.getPosixFilePermissions(util));
    Files.move(replacement, util, StandardCopyOption.REPLACE_EXISTING);

    SyncedInputs synced = roots.sync(root, dir);

    assertThat(inode(util)).isEqualTo(inode(fixture.cachedFile(digestOf("int util();"))));
    assertThat(synced.linked()).isEqualTo(1);
    assertLikeAFreshSync(dir);
  }

  @Test
  void catchesAFileWrittenInPlaceWithTheSameSizeAndModeAndRepairsTheCache() throws IOException {
    syncAndRecord(dir);
    Path main = dir.resolve("main.c");
    Path cached = fixture.cachedFile(digestOf("int main() {}"));
    String mode = PosixFilePermissions.toString(Files.getPosixFilePermissions(main));
    Files.setPosixFilePermissions(main, PosixFilePermissions.fromString("rw-------"));
    Files.writeString(main, "int MAIN() {}");
    Files.setPosixFilePermissions(main, PosixFilePermissions.fromString(mode));
    assertThat(cached).hasContent("int MAIN() {}");

    SyncedInputs synced = roots.sync(root, dir);

    assertThat(main).hasContent("int main() {}");
    assertThat(fixture.cachedFile(digestOf("int main() {}"))).hasContent("int main() {}");
    assertThat(synced.linked()).isEqualTo(1);
    assertLikeAFreshSync(dir);
  }

  @Test
  void catchesAFileWrittenInPlaceThatChangedSize() throws IOException {
    syncAndRecord(dir);
    Path x = dir.resolve("lib/deep/x.h");
    Files.setPosixFilePermissions(x, PosixFilePermissions.fromString("rw-r--r--"));
    Files.writeString(x, "#define X 2");

    SyncedInputs synced = roots.sync(root, dir);

    assertThat(x).hasContent("#define X");
    assertThat(fixture.cachedFile(digestOf("#define X"))).hasContent("#define X");
    assertThat(synced.linked()).isEqualTo(1);
    assertLikeAFreshSync(dir);
  }

  @Test
  void removesAnEntryAddedToAnUnchangedDirectory() throws IOException {
    syncAndRecord(dir);
    Files.writeString(dir.resolve("lib/deep/stray.h"), "left by the tool");
    Files.createDirectories(dir.resolve("lib/out/classes"));

    SyncedInputs synced = roots.sync(root, dir);

    assertThat(dir.resolve("lib/deep/stray.h")).doesNotExist();
    assertThat(dir.resolve("lib/out")).doesNotExist();
    assertThat(synced.removed()).isEqualTo(3);
    assertLikeAFreshSync(dir);
  }

  @Test
  void recreatesAnEntryRemovedFromAnUnchangedDirectory() throws IOException {
    syncAndRecord(dir);
    Files.delete(dir.resolve("lib/deep/x.h"));
    Files.delete(dir.resolve("empty"));

    SyncedInputs synced = roots.sync(root, dir);

    assertThat(dir.resolve("lib/deep/x.h")).hasContent("#define X");
    assertThat(synced.linked()).isEqualTo(2);
    assertLikeAFreshSync(dir);
  }

  @Test
  void followsDirectoriesSwappedByRenames() throws IOException {
    Directory one = Directory.newBuilder().addFiles(trees.file("x", "one")).build();
    Directory two = Directory.newBuilder().addFiles(trees.file("x", "two")).build();
    root =
        trees.put(
            Directory.newBuilder()
                .addDirectories(trees.dir("a", one))
                .addDirectories(trees.dir("b", two))
                .build());
    roots.sync(root, dir);
    tick();
    roots.sync(root, dir);
    Files.move(dir.resolve("a"), dir.resolve("t"));
    Files.move(dir.resolve("b"), dir.resolve("a"));
    Files.move(dir.resolve("t"), dir.resolve("b"));

    SyncedInputs synced = roots.sync(root, dir);

    assertThat(dir.resolve("a/x")).hasContent("one");
    assertThat(dir.resolve("b/x")).hasContent("two");
    assertThat(synced.linked()).isEqualTo(2);
    assertLikeAFreshSync(dir);
  }

  @Test
  void followsADirectoryRenamedWithinTheTree() throws IOException {
    syncAndRecord(dir);
    Files.move(dir.resolve("lib/deep"), dir.resolve("deep"));

    SyncedInputs synced = roots.sync(root, dir);

    assertThat(dir.resolve("deep")).doesNotExist();
    assertThat(dir.resolve("lib/deep/x.h")).hasContent("#define X");
    assertThat(synced.linked()).isEqualTo(1);
    assertLikeAFreshSync(dir);
  }

  @Test
  void putsBackASwappedSymlink() throws IOException {
    syncAndRecord(dir);
    Path util = dir.resolve("util");
    Files.delete(util);
    Files.createSymbolicLink(util, dir.getFileSystem().getPath("main.c"));

    SyncedInputs synced = roots.sync(root, dir);

    assertThat(Files.readSymbolicLink(util).toString()).isEqualTo("lib/util.h");
    assertThat(synced.linked()).isEqualTo(1);
    assertLikeAFreshSync(dir);
  }

  @Test
  void relinksAnInputWhoseCacheFileWasEvicted() throws IOException {
    syncAndRecord(dir);
    Digest main = digestOf("int main() {}");
    Files.delete(fixture.cachedFile(main));
    fixture.source.reset();

    SyncedInputs synced = roots.sync(root, dir);

    // The old inode still holds the right bytes, but no longer the cache's file: linked again, so
    // that the directory's inputs are the cache's files, as prepare's are.
    assertThat(fixture.cachedFile(main)).hasContent("int main() {}");
    assertThat(inode(dir.resolve("main.c"))).isEqualTo(inode(fixture.cachedFile(main)));
    assertThat(fixture.source.reads(main)).isEqualTo(1);
    assertThat(synced.linked()).isEqualTo(1);
    assertThat(synced.trusted()).isEqualTo(5);
  }

  @Test
  void catchesAWriteThroughAnotherDirectoryOfTheSameTree() throws IOException {
    Path other = tempDir.resolve("persistent/worker-2");
    roots.sync(root, dir);
    roots.sync(root, other);
    tick();
    roots.sync(root, dir);
    roots.sync(root, other);
    // The two directories link the same cache files: a write through one reaches both.
    Path theirs = other.resolve("lib/util.h");
    Files.setPosixFilePermissions(theirs, PosixFilePermissions.fromString("rw-------"));
    Files.writeString(theirs, "int UTIL();");
    Files.setPosixFilePermissions(theirs, PosixFilePermissions.fromString("r--r--r--"));
    assertThat(dir.resolve("lib/util.h")).hasContent("int UTIL();");

    SyncedInputs synced = roots.sync(root, dir);

    assertThat(dir.resolve("lib/util.h")).hasContent("int util();");
    assertThat(fixture.cachedFile(digestOf("int util();"))).hasContent("int util();");
    assertThat(synced.linked()).isEqualTo(1);
    SyncedInputs theirSync = roots.sync(root, other);
    assertThat(theirs).hasContent("int util();");
    assertThat(theirSync.linked()).isEqualTo(1);
  }

  @Test
  void trustsNothingWhenNothingIsRecorded() throws IOException {
    try (ExecRoots unrecorded =
        fixture
            .execRoots()
            .workDirectory(tempDir.resolve("other-work"))
            .syncTrustAge(Duration.ZERO)
            .maxSyncRecordEntries(0)
            .build()) {
      unrecorded.sync(root, dir);
      tick();
      unrecorded.sync(root, dir);
      SyncedInputs synced = unrecorded.sync(root, dir);
      assertThat(synced.kept()).isEqualTo(6);
      assertThat(synced.trusted()).isZero();
      assertThat(synced.unlisted()).isZero();
    }
  }

  private static Object inode(Path path) throws IOException {
    return Files.getAttribute(path, "unix:ino", LinkOption.NOFOLLOW_LINKS);
  }
}
