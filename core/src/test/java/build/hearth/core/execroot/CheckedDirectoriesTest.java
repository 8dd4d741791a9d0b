package build.hearth.core.execroot;

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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The checked directories a validator keeps between trees: what they save (reads and checks of
 * directories met before), and that they never let a tree through that a fresh validator would
 * refuse, since only what a directory's own bytes decide is kept.
 */
class CheckedDirectoriesTest {
  private final Hearth hearth = Hearth.newBuilder().build();
  private final TreeMaker trees = new TreeMaker(hearth.cas());
  private final List<Digest> fetched = new ArrayList<>();

  @AfterEach
  void close() {
    hearth.close();
  }

  private InputTreeValidator validator(CheckedDirectories checked, long maxEntries) {
    DirectorySource counting =
        digests -> {
          fetched.addAll(digests);
          Map<Digest, ByteString> found =
              DirectorySource.cached(hearth.cas(), hearth.cas()).fetch(digests);
          return found;
        };
    return new InputTreeValidator(counting, false, maxEntries, DirectoryBlobs.DEFAULTS, checked);
  }

  private DirectoryNode node(String name, Directory directory) {
    return trees.dir(name, directory);
  }

  @Test
  void theSameTreeAgainIsNotReadAgain() {
    Directory lib = Directory.newBuilder().addFiles(trees.file("a.h", "a")).build();
    Digest root = trees.put(Directory.newBuilder().addDirectories(node("lib", lib)).build());
    InputTreeValidator validator = validator(new CheckedDirectories(1 << 20), 1000);

    InputTree first = validator.validate(root);
    assertThat(fetched).hasSize(2);
    fetched.clear();
    InputTree second = validator.validate(root);

    assertThat(fetched).isEmpty();
    assertThat(second.files()).isEqualTo(first.files());
    assertThat(second.entries()).isEqualTo(2);
  }

  @Test
  void aTreeWithOneDirectoryChangedReadsOnlyThatDirectoryAndTheRoot() {
    Directory a = Directory.newBuilder().addFiles(trees.file("a", "a")).build();
    Directory b = Directory.newBuilder().addFiles(trees.file("b", "b")).build();
    Directory b2 = Directory.newBuilder().addFiles(trees.file("b", "b changed")).build();
    InputTreeValidator validator = validator(new CheckedDirectories(1 << 20), 1000);
    validator.validate(
        trees.put(
            Directory.newBuilder()
                .addDirectories(node("a", a))
                .addDirectories(node("b", b))
                .build()));
    fetched.clear();

    Digest next =
        trees.put(
            Directory.newBuilder()
                .addDirectories(node("a", a))
                .addDirectories(node("b", b2))
                .build());
    InputTree tree = validator.validate(next);

    assertThat(fetched).containsExactlyInAnyOrder(next, Digest.of(b2.toByteString()));
    assertThat(tree.files()).contains(TreeMaker.digestOf("a"), TreeMaker.digestOf("b changed"));
  }

  @Test
  void aRefusedDirectoryIsNotKeptAndIsRefusedAgain() {
    Directory bad =
        Directory.newBuilder()
            .addFiles(trees.file("b", "1"))
            .addFiles(trees.file("a", "2"))
            .build();
    Digest root = trees.put(Directory.newBuilder().addDirectories(node("bad", bad)).build());
    CheckedDirectories checked = new CheckedDirectories(1 << 20);
    InputTreeValidator validator = validator(checked, 1000);

    for (int attempt = 0; attempt < 2; attempt++) {
      assertThatThrownBy(() -> validator.validate(root))
          .isInstanceOf(HearthException.class)
          .hasMessageContaining("not sorted");
    }
    assertThat(checked.get(Digest.of(bad.toByteString()))).isNull();
  }

  @Test
  void aKeptDirectoryWhoseSymlinkEscapesAtItsNewPlaceIsRefused() {
    // 'up -> ../../x' stays inside the root two levels down, and leaves it one level down.
    Directory linking = Directory.newBuilder().addSymlinks(symlink("up", "../../x")).build();
    Directory middle = Directory.newBuilder().addDirectories(node("deep", linking)).build();
    Digest inside = trees.put(Directory.newBuilder().addDirectories(node("m", middle)).build());
    Digest outside = trees.put(Directory.newBuilder().addDirectories(node("s", linking)).build());
    InputTreeValidator validator = validator(new CheckedDirectories(1 << 20), 1000);

    validator.validate(inside);

    assertThatThrownBy(() -> validator.validate(outside))
        .isInstanceOf(HearthException.class)
        .hasMessage("input tree: 's/up': symlink target '../../x' points outside the exec root");
  }

  @Test
  void aKeptSubtreeRepeatedBeyondTheEntryBoundIsRefused() {
    Directory.Builder files = Directory.newBuilder();
    for (int i = 0; i < 10; i++) {
      files.addFiles(trees.file(String.format("f%02d", i), "file " + i));
    }
    Directory ten = files.build();
    CheckedDirectories checked = new CheckedDirectories(1 << 20);
    validator(checked, 100)
        .validate(trees.put(Directory.newBuilder().addDirectories(node("one", ten)).build()));

    Directory.Builder many = Directory.newBuilder();
    for (int i = 0; i < 10; i++) {
      many.addDirectories(node(String.format("d%02d", i), ten));
    }
    Digest root = trees.put(many.build());

    assertThatThrownBy(() -> validator(checked, 100).validate(root))
        .isInstanceOf(HearthException.class)
        .satisfies(
            e -> assertThat(((HearthException) e).code()).isEqualTo(StatusCode.RESOURCE_EXHAUSTED))
        .hasMessageContaining("110 entries");
  }

  @Test
  void aKeptSubtreePlacedTooDeepIsRefused() {
    Directory level = Directory.getDefaultInstance();
    for (int i = 0; i < 999; i++) {
      level = Directory.newBuilder().addDirectories(node("d", level)).build();
    }
    CheckedDirectories checked = new CheckedDirectories(64 << 20);
    InputTreeValidator validator = validator(checked, 1_000_000);
    validator.validate(trees.put(level)); // 999 deep below the root: accepted

    Directory deeper =
        Directory.newBuilder()
            .addDirectories(
                node("x", Directory.newBuilder().addDirectories(node("y", level)).build()))
            .build();

    assertThatThrownBy(() -> validator.validate(trees.put(deeper)))
        .isInstanceOf(HearthException.class)
        .hasMessageContaining("nested more than 1000 deep");
  }

  @Test
  void theBoundInBytesEvictsTheLeastRecentlyUsed() {
    Directory a = Directory.newBuilder().addFiles(trees.file("a", "a")).build();
    Directory b = Directory.newBuilder().addFiles(trees.file("b", "b")).build();
    long charge = CheckedDirectories.CHARGE_FACTOR * (long) a.getSerializedSize();
    assertThat(b.getSerializedSize()).isEqualTo(a.getSerializedSize());
    CheckedDirectories checked = new CheckedDirectories(charge);
    InputTreeValidator validator = validator(checked, 1000);
    Digest da = trees.put(a);
    Digest db = trees.put(b);

    validator.validate(da);
    validator.validate(db);

    assertThat(checked.get(da)).isNull();
    assertThat(checked.get(db)).isNotNull();
    assertThat(checked.bytes()).isEqualTo(charge);
    fetched.clear();
    validator.validate(da);
    assertThat(fetched).containsExactly(da);
  }

  @Test
  void noBytesKeepsNothing() {
    Digest root = trees.put(Directory.newBuilder().addFiles(trees.file("a", "a")).build());
    InputTreeValidator validator = validator(new CheckedDirectories(0), 1000);
    validator.validate(root);
    validator.validate(root);
    assertThat(fetched).containsExactly(root, root);
  }
}
