package build.hearth.core.cas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.DirectoryNode;
import build.bazel.remote.execution.v2.FileNode;
import build.hearth.api.ContentAddressableStorage.TreePage;
import build.hearth.api.Digest;
import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import build.hearth.spi.storage.BlobStore;
import build.hearth.spi.storage.StoreContext;
import build.hearth.spi.storage.StoreProviderRegistry;
import build.hearth.spi.storage.StoreSettings;
import build.hearth.spi.storage.StoreStats;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** GetTree paging: linear in the tree, resumable from a token, and strict about tokens. */
class TreeReaderTest {
  private final BlobStore memory =
      StoreProviderRegistry.discover(getClass().getClassLoader())
          .createBlobStore(
              "memory",
              "cas.type",
              0,
              StoreContext.newBuilder("cas", StoreSettings.of("cas", Map.of())).build());
  private final CountingStore store = new CountingStore(memory);
  private final VerifyingContentAddressableStorage cas =
      new VerifyingContentAddressableStorage(store);

  @AfterEach
  void close() {
    memory.close();
  }

  /**
   * A tree of {@code n} distinct directories: a chain where each directory also has a leaf, so the
   * frontier stays small and every directory is distinct. Returns the root.
   */
  private Digest tree(int n, List<Directory> inOrder) {
    // Build bottom-up a chain d0 -> d1 -> ... ; each level holds one distinct file name.
    Directory below = null;
    Digest belowDigest = null;
    List<Directory> chain = new ArrayList<>();
    for (int i = n - 1; i >= 0; i--) {
      Directory.Builder directory =
          Directory.newBuilder().addFiles(FileNode.newBuilder().setName("f" + i));
      if (below != null) {
        directory.addDirectories(
            DirectoryNode.newBuilder().setName("d").setDigest(belowDigest.toProto()));
      }
      below = directory.build();
      belowDigest = cas.put(below.toByteString());
      chain.add(0, below);
    }
    inOrder.addAll(chain);
    return belowDigest;
  }

  private List<Directory> readAll(Digest root, int pageSize) {
    List<Directory> all = new ArrayList<>();
    String token = "";
    do {
      TreePage page = cas.getTree(root, pageSize, token);
      all.addAll(page.directories());
      token = page.nextPageToken();
    } while (!token.isEmpty());
    return all;
  }

  @Test
  void pagesOfOneReadEachDirectoryOnce() {
    int n = 300;
    List<Directory> expected = new ArrayList<>();
    Digest root = tree(n, expected);
    store.reads.set(0);

    assertThat(readAll(root, 1)).containsExactlyElementsOf(expected);
    // Linear: each directory read once. Re-walking from the root for every page would read
    // n(n+1)/2 = 45,150 directories.
    assertThat(store.reads.get()).isEqualTo(n);
  }

  @Test
  void aTokenWhoseCursorIsGoneResumesByRewalking() {
    List<Directory> expected = new ArrayList<>();
    Digest root = tree(10, expected);
    TreePage first = cas.getTree(root, 4, "");
    // Another reader has no cursor for this token (a restart, or the cursor was dropped).
    VerifyingContentAddressableStorage restarted = new VerifyingContentAddressableStorage(store);
    TreePage second = restarted.getTree(root, 4, first.nextPageToken());
    assertThat(second.directories()).containsExactlyElementsOf(expected.subList(4, 8));
    TreePage third = restarted.getTree(root, 4, second.nextPageToken());
    assertThat(third.directories()).containsExactlyElementsOf(expected.subList(8, 10));
    assertThat(third.nextPageToken()).isEmpty();
  }

  @Test
  void aTokenUsedTwiceGivesTheSamePageBothTimes() {
    List<Directory> expected = new ArrayList<>();
    Digest root = tree(6, expected);
    String token = cas.getTree(root, 2, "").nextPageToken();
    assertThat(cas.getTree(root, 2, token).directories())
        .containsExactlyElementsOf(expected.subList(2, 4));
    assertThat(cas.getTree(root, 2, token).directories())
        .containsExactlyElementsOf(expected.subList(2, 4));
  }

  @Test
  void malformedAndForeignTokensAreInvalidArguments() {
    List<Directory> ignored = new ArrayList<>();
    Digest root = tree(4, ignored);
    Digest other =
        cas.put(
            Directory.newBuilder()
                .addFiles(FileNode.newBuilder().setName("o"))
                .build()
                .toByteString());
    String token = cas.getTree(root, 1, "").nextPageToken();
    assertThat(token).startsWith("v1:").contains(":1:");

    for (String bad : List.of("2", "not-a-token", token + "x", token.replace(":1:", ":-1:"))) {
      assertThatThrownBy(() -> cas.getTree(root, 1, bad))
          .as(bad)
          .isInstanceOfSatisfying(
              HearthException.class,
              e -> {
                assertThat(e.code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
                assertThat(e.getMessage()).contains("was not issued by this server");
              });
    }
    assertThatThrownBy(() -> cas.getTree(other, 1, token))
        .isInstanceOfSatisfying(
            HearthException.class,
            e -> {
              assertThat(e.code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
              assertThat(e.getMessage()).contains("another root_digest");
            });
    String pastTheEnd = token.replace(":1:", ":99:");
    assertThatThrownBy(
            () -> new VerifyingContentAddressableStorage(store).getTree(root, 1, pastTheEnd))
        .isInstanceOfSatisfying(
            HearthException.class,
            e -> assertThat(e.getMessage()).contains("past the end of the tree"));
  }

  @Test
  void aDirectoryOverTheCapIsRefusedBeforeItIsRead() {
    Digest huge =
        new Digest(
            "0000000000000000000000000000000000000000000000000000000000000000",
            DirectoryBlobs.DEFAULT_MAX_DIRECTORY_BYTES + 1);
    Directory root =
        Directory.newBuilder()
            .addDirectories(DirectoryNode.newBuilder().setName("big").setDigest(huge.toProto()))
            .build();
    Digest rootDigest = cas.put(root.toByteString());
    store.reads.set(0);
    assertThatThrownBy(() -> readAll(rootDigest, 10))
        .isInstanceOfSatisfying(
            HearthException.class,
            e -> {
              assertThat(e.code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
              assertThat(e.getMessage())
                  .contains(huge.toString(), Long.toString(huge.sizeBytes()), "16.0 MiB");
            });
    assertThat(store.reads.get()).as("only the root was read").isEqualTo(1);
  }

  @Test
  void aConfiguredDirectoryCapIsHonouredAndNamed() {
    Directory.Builder big = Directory.newBuilder();
    for (int i = 0; i < 40; i++) {
      big.addDirectories(
          DirectoryNode.newBuilder()
              .setName("sub-" + i)
              .setDigest(cas.put(Directory.getDefaultInstance().toByteString()).toProto()));
    }
    Digest root = cas.put(big.build().toByteString());
    assertThat(root.sizeBytes()).isGreaterThan(1024);
    assertThat(readAll(root, 100)).hasSize(2); // the root and the one empty directory

    VerifyingContentAddressableStorage small =
        new VerifyingContentAddressableStorage(store, DirectoryBlobs.forDirectories(1024));
    assertThatThrownBy(() -> small.getTree(root, 100, ""))
        .isInstanceOfSatisfying(
            HearthException.class,
            e -> {
              assertThat(e.code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
              assertThat(e.getMessage()).contains(root.toString(), "maxDirectorySize is 1.0 KiB");
            });
  }

  /** Forwards to a store and counts the reads. */
  private static final class CountingStore implements BlobStore {
    final BlobStore delegate;
    final AtomicInteger reads = new AtomicInteger();

    CountingStore(BlobStore delegate) {
      this.delegate = delegate;
    }

    @Override
    public boolean contains(Digest digest) {
      return delegate.contains(digest);
    }

    @Override
    public Optional<InputStream> read(Digest digest, long offset) {
      reads.incrementAndGet();
      return delegate.read(digest, offset);
    }

    @Override
    public Upload startUpload(Digest digest) {
      return delegate.startUpload(digest);
    }

    @Override
    public StoreStats stats() {
      return delegate.stats();
    }

    @Override
    public void close() {}
  }
}
