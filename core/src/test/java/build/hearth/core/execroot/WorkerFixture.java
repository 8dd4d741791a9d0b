package build.hearth.core.execroot;

import build.hearth.api.ContentAddressableStorage;
import build.hearth.api.Digest;
import build.hearth.core.Hearth;
import build.hearth.core.Storage;
import build.hearth.spi.storage.BlobStore;
import build.hearth.spi.storage.StoreContext;
import build.hearth.spi.storage.StoreProviderRegistry;
import build.hearth.spi.storage.StoreSettings;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * What a worker test needs: a source CAS (a memory {@link Hearth}, reads counted), a local cache
 * (the built-in {@code filesystem} blob store), a fetch pool, and a work directory.
 */
final class WorkerFixture implements AutoCloseable {
  final Hearth server = Hearth.newBuilder().build();
  final CountingCas source = new CountingCas(server.cas());
  final TreeMaker trees = new TreeMaker(server.cas());
  final Path cacheDir;
  final Path workDir;
  final BlobStore cacheStore;
  final ContentAddressableStorage cache;
  final ExecutorService executor = Executors.newFixedThreadPool(4);

  WorkerFixture(Path tempDir) {
    this.cacheDir = tempDir.resolve("cache");
    this.workDir = tempDir.resolve("work");
    StoreContext context =
        StoreContext.newBuilder(
                "workerCache", StoreSettings.of("workerCache", Map.of("path", cacheDir.toString())))
            .build();
    this.cacheStore =
        StoreProviderRegistry.discover(WorkerFixture.class.getClassLoader())
            .createBlobStore("filesystem", "workerCache.type", 0, context);
    this.cache = Storage.cas(cacheStore);
  }

  ExecRoots.Builder execRoots() {
    return ExecRoots.newBuilder()
        .workDirectory(workDir)
        .localCache(cacheStore)
        .source(source)
        .executor(executor);
  }

  /** The file of the filesystem store that holds {@code digest}. */
  Path cachedFile(Digest digest) {
    return cacheDir.resolve("blobs").resolve(digest.hash().substring(0, 2)).resolve(digest.hash());
  }

  @Override
  public void close() {
    executor.shutdownNow();
    cacheStore.close();
    server.close();
  }
}
