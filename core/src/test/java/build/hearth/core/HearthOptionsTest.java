package build.hearth.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import build.bazel.remote.execution.v2.Action;
import build.bazel.remote.execution.v2.Command;
import build.bazel.remote.execution.v2.ExecuteResponse;
import build.hearth.api.ContentAddressableStorage;
import build.hearth.api.Digest;
import build.hearth.api.HearthException;
import build.hearth.api.InputFile;
import build.hearth.core.config.PersistentWorkersConfig;
import build.hearth.core.storage.FilesystemBlobStoreProvider;
import build.hearth.core.storage.MemoryActionCacheStoreProvider;
import build.hearth.core.storage.MemoryBlobStoreProvider;
import build.hearth.spi.storage.BlobStore;
import build.hearth.spi.storage.BlobStoreProvider;
import build.hearth.spi.storage.LocalBlobFiles;
import build.hearth.spi.storage.StoreContext;
import build.hearth.spi.storage.StoreProviderRegistry;
import build.hearth.spi.storage.StoreStats;
import com.google.protobuf.ByteString;
import java.io.InputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The builder's typed options, and the settings maps' numbers, mean what they say. */
class HearthOptionsTest {
  @TempDir Path tempDir;

  @Test
  void anIntegerMaxSizeInASettingsMapIsASizeInBytes() {
    try (Hearth hearth =
        Hearth.newBuilder().blobStore("memory", Map.of("maxSize", 1048576)).build()) {
      assertThatThrownBy(() -> hearth.cas().put(ByteString.copyFrom(new byte[1048577])))
          .isInstanceOf(HearthException.class)
          .hasMessageContaining("can hold (1048576 bytes");
    }
  }

  @Test
  void typedStoreOptionsOpenTheBuiltInStores() {
    Path cas = tempDir.resolve("cas");
    try (Hearth hearth =
        Hearth.newBuilder()
            .filesystemBlobStore(cas, 1 << 20)
            .filesystemActionCache(tempDir.resolve("ac"), 1 << 20)
            .build()) {
      Digest digest = hearth.cas().put(ByteString.copyFromUtf8("on disk"));
      assertThat(cas.resolve("blobs").resolve(digest.hash().substring(0, 2)).resolve(digest.hash()))
          .as("the blob's file under the typed path")
          .hasContent("on disk");
      assertThatThrownBy(() -> hearth.cas().put(ByteString.copyFrom(new byte[(1 << 20) + 1])))
          .as("the typed size is the store's capacity")
          .hasMessageContaining("maxSize is 1048576 bytes");
    }
    assertThatThrownBy(() -> Hearth.newBuilder().memoryBlobStore(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("maxSizeBytes must be at least 1, but is 0");
  }

  @Test
  void zeroWorkerSlotsSaysWhatToDoInstead() {
    assertThatThrownBy(() -> Hearth.newBuilder().workerSlots(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "workerSlots must be at least 1, but is 0; to store blobs without running actions,"
                + " leave out localExecution(...)");
  }

  @Test
  void persistentWorkerSettingsAreBuiltInCodeAndTheirStatisticsComeFromTheInstance() {
    PersistentWorkersConfig settings =
        PersistentWorkersConfig.newBuilder()
            .idleTimeout(Duration.ofMinutes(7))
            .maxProcesses(3)
            .tool(PersistentWorkersConfig.Tool.of("javac", List.of("java", "-jar", "w.jar")))
            .allowTools("javac")
            .build();
    assertThat(settings.idleTimeout()).isEqualTo(Duration.ofMinutes(7));
    assertThat(settings.allows("any", "javac")).as("the allowed tool").isTrue();
    assertThat(settings.allows("any", "other")).as("a tool not allowed").isFalse();
    assertThatThrownBy(() -> PersistentWorkersConfig.newBuilder().maxProcessesPerKey(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("persistentWorkers.maxProcessesPerKey must be at least 1, but is 0");

    try (Hearth on =
            Hearth.newBuilder()
                .name("on")
                .localExecution(tempDir.resolve("on"))
                .persistentWorkers(settings)
                .build();
        Hearth off =
            Hearth.newBuilder()
                .name("off")
                .localExecution(tempDir.resolve("off"))
                .persistentWorkers(PersistentWorkersConfig.newBuilder().enabled(false).build())
                .build()) {
      assertThat(on.persistentWorkerStats())
          .as("an api.PoolStats from the instance itself")
          .hasValueSatisfying(stats -> assertThat(stats.maxProcesses()).isEqualTo(3));
      assertThat(off.persistentWorkerStats()).as("disabled persistent workers").isEmpty();
    }
  }

  @Test
  void aStoreThatHandsOutFilesNeedsNoSecondCache() {
    Path exec = tempDir.resolve("linked-exec");
    try (Hearth hearth =
        Hearth.newBuilder()
            .storeProviders(registry())
            .blobStore(
                "plugin", Map.of("path", tempDir.resolve("plugin").toString(), "files", true))
            .localExecution(exec)
            .build()) {
      assertThat(runCat(hearth).getStatus().getCode()).isZero();
    }
    assertThat(exec.resolve("cache")).as("the worker's own cache").doesNotExist();
  }

  @Test
  void aStoreWithoutFilesGetsACacheOfTheBuildersSize() {
    Path exec = tempDir.resolve("cached-exec");
    try (Hearth hearth =
        Hearth.newBuilder()
            .storeProviders(registry())
            .blobStore(
                "plugin", Map.of("path", tempDir.resolve("plugin").toString(), "files", false))
            .localExecution(exec)
            .localExecutionCacheSize(64)
            .build()) {
      ExecuteResponse response = runCat(hearth);
      assertThat(response.getStatus().getCode())
          .as("a 100-byte input cannot fit a 64-byte cache: %s", response.getStatus())
          .isNotZero();
      assertThat(response.getStatus().getMessage()).contains("64");
    }
    assertThat(exec.resolve("cache")).as("the worker's own cache").isDirectory();
    assertThatThrownBy(() -> Hearth.newBuilder().localExecutionCacheSize(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("localExecutionCacheSize must be at least 1 byte");
  }

  private static ExecuteResponse runCat(Hearth hearth) {
    ContentAddressableStorage cas = hearth.cas();
    Digest command =
        cas.putMessage(Command.newBuilder().addArguments("cat").addArguments("in.txt").build());
    Digest inputs = cas.putTree(Map.of("in.txt", InputFile.of("x".repeat(100))));
    Digest action =
        cas.putMessage(
            Action.newBuilder()
                .setCommandDigest(command.toProto())
                .setInputRootDigest(inputs.toProto())
                .build());
    return hearth.execution().execute(action).result().join();
  }

  private static StoreProviderRegistry registry() {
    return StoreProviderRegistry.of(
        List.of(new FilesystemBlobStoreProvider(), new MemoryBlobStoreProvider(), new Plugin()),
        List.of(new MemoryActionCacheStoreProvider()));
  }

  /** A plugin over the filesystem store that offers its files, or hides them. */
  public static final class Plugin extends BlobStoreProvider {
    @Override
    public String type() {
      return "plugin";
    }

    @Override
    public BlobStore create(StoreContext context) {
      boolean files = context.settings().bool("files", false);
      BlobStore store = new FilesystemBlobStoreProvider().create(context);
      return files ? new WithFiles(store) : new Hidden(store);
    }
  }

  private static class Hidden implements BlobStore {
    final BlobStore store;

    Hidden(BlobStore store) {
      this.store = store;
    }

    @Override
    public boolean contains(Digest digest) {
      return store.contains(digest);
    }

    @Override
    public Set<Digest> findMissing(Collection<Digest> digests) {
      return store.findMissing(digests);
    }

    @Override
    public Optional<InputStream> read(Digest digest, long offset) {
      return store.read(digest, offset);
    }

    @Override
    public Upload startUpload(Digest digest) {
      return store.startUpload(digest);
    }

    @Override
    public StoreStats stats() {
      return store.stats();
    }

    @Override
    public void close() {
      store.close();
    }
  }

  private static final class WithFiles extends Hidden implements LocalBlobFiles {
    WithFiles(BlobStore store) {
      super(store);
    }

    @Override
    public Optional<Path> pathOf(Digest digest) {
      return ((LocalBlobFiles) store).pathOf(digest);
    }
  }
}
