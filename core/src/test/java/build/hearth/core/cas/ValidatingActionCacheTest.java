package build.hearth.core.cas;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.FileNode;
import build.bazel.remote.execution.v2.OutputDirectory;
import build.bazel.remote.execution.v2.OutputFile;
import build.bazel.remote.execution.v2.Tree;
import build.hearth.api.ActionCache;
import build.hearth.api.ContentAddressableStorage;
import build.hearth.api.Digest;
import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import build.hearth.core.Hearth;
import build.hearth.core.Storage;
import build.hearth.spi.storage.ActionCacheStore;
import build.hearth.spi.storage.StoreContext;
import build.hearth.spi.storage.StoreProviderRegistry;
import build.hearth.spi.storage.StoreSettings;
import com.google.protobuf.ByteString;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ValidatingActionCacheTest {
  private final Hearth hearth = Hearth.newBuilder().build();
  private final Digest action = Digest.of("action".getBytes(UTF_8));

  @AfterEach
  void close() {
    hearth.close();
  }

  private Digest store(String text) {
    return hearth.cas().put(ByteString.copyFrom(text, UTF_8));
  }

  @Test
  void missIsEmpty() {
    assertThat(hearth.actionCache().get(action)).isEmpty();
  }

  @Test
  void resultWithAllBlobsPresentIsReturned() {
    ActionResult result =
        ActionResult.newBuilder()
            .addOutputFiles(OutputFile.newBuilder().setPath("out").setDigest(store("o").toProto()))
            .setStdoutDigest(store("stdout").toProto())
            .setExitCode(0)
            .build();

    hearth.actionCache().put(action, result);

    assertThat(hearth.actionCache().get(action)).contains(result);
  }

  @Test
  void resultReferencingAnAbsentBlobIsRefused() {
    Digest absent = Digest.of("never uploaded".getBytes(UTF_8));
    ActionResult result =
        ActionResult.newBuilder()
            .addOutputFiles(OutputFile.newBuilder().setPath("out").setDigest(absent.toProto()))
            .build();

    assertThatThrownBy(() -> hearth.actionCache().put(action, result))
        .isInstanceOfSatisfying(
            HearthException.class,
            e -> assertThat(e.code()).isEqualTo(StatusCode.FAILED_PRECONDITION))
        .hasMessageContaining(absent.toString());
  }

  @Test
  void aResultReferencingOnlyTheEmptyBlobIsStoredWithoutAskingTheCas() {
    // The empty blob is in every CAS: a trivial action's result (empty stdout, stderr and output
    // file) needs no lookup, which costs a CAS call per action on the hot path.
    ContentAddressableStorage noLookups =
        (ContentAddressableStorage)
            Proxy.newProxyInstance(
                getClass().getClassLoader(),
                new Class<?>[] {ContentAddressableStorage.class},
                (proxy, method, args) -> {
                  throw new AssertionError("the CAS was asked: " + method.getName());
                });
    ActionCacheStore store = memoryStore();
    ActionCache cache = CasFactory.actionCache(store, noLookups, DirectoryBlobs.DEFAULTS);
    ActionResult result =
        ActionResult.newBuilder()
            .addOutputFiles(
                OutputFile.newBuilder().setPath("empty").setDigest(Digest.EMPTY.toProto()))
            .setStdoutDigest(Digest.EMPTY.toProto())
            .setStderrDigest(Digest.EMPTY.toProto())
            .build();

    cache.put(action, result);

    assertThat(cache.get(action)).contains(result);
    store.close();
  }

  @Test
  void anEmptyStdoutBesideAnAbsentStderrIsStillRefused() {
    Digest absent = Digest.of("stderr never uploaded".getBytes(UTF_8));
    ActionResult result =
        ActionResult.newBuilder()
            .setStdoutDigest(Digest.EMPTY.toProto())
            .setStderrDigest(absent.toProto())
            .build();

    assertThatThrownBy(() -> hearth.actionCache().put(action, result))
        .isInstanceOfSatisfying(
            HearthException.class,
            e -> assertThat(e.code()).isEqualTo(StatusCode.FAILED_PRECONDITION))
        .hasMessageContaining(absent.toString());
  }

  @Test
  void fileInsideAnOutputTreeMustBePresent() {
    // The tree blob is stored, but a file it lists is not: a client could not download it.
    Digest absent = Digest.of("inner file".getBytes(UTF_8));
    Tree tree =
        Tree.newBuilder()
            .setRoot(
                Directory.newBuilder()
                    .addFiles(FileNode.newBuilder().setName("inner").setDigest(absent.toProto())))
            .build();
    Digest treeDigest = hearth.cas().put(tree.toByteString());
    ActionResult result =
        ActionResult.newBuilder()
            .addOutputDirectories(
                OutputDirectory.newBuilder().setPath("dir").setTreeDigest(treeDigest.toProto()))
            .build();

    assertThatThrownBy(() -> hearth.actionCache().put(action, result))
        .isInstanceOf(HearthException.class);

    hearth.cas().put(ByteString.copyFrom("inner file", UTF_8));
    hearth.actionCache().put(action, result);
    assertThat(hearth.actionCache().get(action)).contains(result);
  }

  @Test
  void anOutputTreeIsCheckedFromItsStreamNeverReadWhole() {
    Digest inner = store("streamed inner");
    Tree tree =
        Tree.newBuilder()
            .setRoot(
                Directory.newBuilder()
                    .addFiles(FileNode.newBuilder().setName("a").setDigest(inner.toProto())))
            .addChildren(
                Directory.newBuilder()
                    .addFiles(FileNode.newBuilder().setName("b").setDigest(inner.toProto())))
            .build();
    Digest treeDigest = hearth.cas().put(tree.toByteString());
    ContentAddressableStorage noWholeReads =
        (ContentAddressableStorage)
            Proxy.newProxyInstance(
                getClass().getClassLoader(),
                new Class<?>[] {ContentAddressableStorage.class},
                (proxy, method, args) -> {
                  if (method.getName().equals("get")) {
                    throw new AssertionError("read whole: " + args[0]);
                  }
                  try {
                    return method.invoke(hearth.cas(), args);
                  } catch (InvocationTargetException e) {
                    throw e.getCause();
                  }
                });
    ActionCacheStore store =
        StoreProviderRegistry.discover(getClass().getClassLoader())
            .createActionCacheStore(
                "memory",
                "actionCaches.ac.type",
                0,
                StoreContext.newBuilder("ac", StoreSettings.of("actionCaches.ac", Map.of()))
                    .build());
    ActionCache cache = CasFactory.actionCache(store, noWholeReads, DirectoryBlobs.DEFAULTS);
    ActionResult result =
        ActionResult.newBuilder()
            .addOutputDirectories(
                OutputDirectory.newBuilder().setPath("dir").setTreeDigest(treeDigest.toProto()))
            .build();
    cache.put(action, result);
    assertThat(cache.get(action)).contains(result);
    store.close();
  }

  @Test
  void aDirectoryInsideATreeOverTheCapIsRefusedBeforeItIsParsed() {
    // A Tree whose child field declares 16 MiB + 1 bytes: refused from the length alone.
    ByteString bytes =
        ByteString.copyFrom(new byte[] {0x12})
            .concat(varint(DirectoryBlobs.DEFAULT_MAX_DIRECTORY_BYTES + 1))
            .concat(ByteString.copyFromUtf8("not that many bytes"));
    Digest treeDigest = hearth.cas().put(bytes);
    ActionResult result =
        ActionResult.newBuilder()
            .addOutputDirectories(
                OutputDirectory.newBuilder().setPath("dir").setTreeDigest(treeDigest.toProto()))
            .build();
    assertThatThrownBy(() -> hearth.actionCache().put(action, result))
        .isInstanceOfSatisfying(
            HearthException.class, e -> assertThat(e.code()).isEqualTo(StatusCode.INVALID_ARGUMENT))
        .hasMessageContaining(treeDigest.toString())
        .hasMessageContaining("holds a Directory of 16777217 bytes")
        .hasMessageContaining("16777216");
  }

  @Test
  void configuredTreeAndDirectoryCapsAreHonouredAndNamed() {
    // The Tree's children need not be reachable from its root for the check, which reads them all.
    Digest file = store("f");
    Tree.Builder tree = Tree.newBuilder().setRoot(Directory.getDefaultInstance());
    for (int i = 0; i < 100; i++) {
      tree.addChildren(
          Directory.newBuilder()
              .addFiles(FileNode.newBuilder().setName("file-" + i).setDigest(file.toProto())));
    }
    Digest treeDigest = hearth.cas().put(tree.build().toByteString());
    assertThat(treeDigest.sizeBytes()).isGreaterThan(2048);
    ActionResult result =
        ActionResult.newBuilder()
            .addOutputDirectories(
                OutputDirectory.newBuilder().setPath("dir").setTreeDigest(treeDigest.toProto()))
            .build();
    ActionCache defaults = Storage.actionCache(memoryStore(), hearth.cas());
    defaults.put(action, result);
    assertThat(defaults.get(action)).contains(result);

    ActionCache smallTrees = Storage.actionCache(memoryStore(), hearth.cas(), 1024, 2048);
    assertThatThrownBy(() -> smallTrees.put(action, result))
        .isInstanceOfSatisfying(
            HearthException.class, e -> assertThat(e.code()).isEqualTo(StatusCode.INVALID_ARGUMENT))
        .hasMessageContaining(treeDigest.toString())
        .hasMessageContaining("maxTreeSize is 2.0 KiB");
  }

  private static ActionCacheStore memoryStore() {
    return StoreProviderRegistry.discover(ValidatingActionCacheTest.class.getClassLoader())
        .createActionCacheStore(
            "memory",
            "actionCaches.ac.type",
            0,
            StoreContext.newBuilder("ac", StoreSettings.of("actionCaches.ac", Map.of())).build());
  }

  private static ByteString varint(long value) {
    ByteString.Output out = ByteString.newOutput();
    while ((value & ~0x7FL) != 0) {
      out.write((int) ((value & 0x7F) | 0x80));
      value >>>= 7;
    }
    out.write((int) value);
    return out.toByteString();
  }

  /** {@code DIRECTORY_ONLY}: a root Directory whose child is a separate blob, no Tree. */
  private ActionResult directoryOnly(String innerText, boolean storeChild) {
    Directory child =
        Directory.newBuilder()
            .addFiles(FileNode.newBuilder().setName("inner").setDigest(store(innerText).toProto()))
            .build();
    Digest childDigest =
        storeChild
            ? hearth.cas().put(child.toByteString())
            : Digest.of(child.toByteString().toByteArray());
    Directory root =
        Directory.newBuilder()
            .addFiles(FileNode.newBuilder().setName("top").setDigest(store("top").toProto()))
            .addDirectories(
                build.bazel.remote.execution.v2.DirectoryNode.newBuilder()
                    .setName("sub")
                    .setDigest(childDigest.toProto()))
            .build();
    Digest rootDigest = hearth.cas().put(root.toByteString());
    return ActionResult.newBuilder()
        .addOutputDirectories(
            OutputDirectory.newBuilder()
                .setPath("out")
                .setRootDirectoryDigest(rootDigest.toProto()))
        .build();
  }

  @Test
  void anOutputDirectoryGivenOnlyByItsRootDirectoryIsCachedAndServed() {
    ActionResult result = directoryOnly("inner", true);

    hearth.actionCache().put(action, result);

    assertThat(hearth.actionCache().get(action)).contains(result);
  }

  @Test
  void aDirectoryBelowADirectoryOnlyOutputMustBePresent() {
    ActionResult result = directoryOnly("inner", false);

    assertThatThrownBy(() -> hearth.actionCache().put(action, result))
        .isInstanceOfSatisfying(
            HearthException.class,
            e -> assertThat(e.code()).isEqualTo(StatusCode.FAILED_PRECONDITION))
        .hasMessageContaining("references 1 blobs");
  }

  @Test
  void anOutputDirectoryWithNeitherTreeNorRootIsRefused() {
    ActionResult result =
        ActionResult.newBuilder()
            .addOutputDirectories(OutputDirectory.newBuilder().setPath("out"))
            .build();

    assertThatThrownBy(() -> hearth.actionCache().put(action, result))
        .isInstanceOfSatisfying(
            HearthException.class, e -> assertThat(e.code()).isEqualTo(StatusCode.INVALID_ARGUMENT))
        .hasMessageContaining("neither a tree_digest nor a root_directory_digest");
  }
}
