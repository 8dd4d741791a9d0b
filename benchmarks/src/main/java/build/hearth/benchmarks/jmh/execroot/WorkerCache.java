package build.hearth.benchmarks.jmh.execroot;

import build.hearth.api.ContentAddressableStorage;
import build.hearth.benchmarks.LargeInputTree;
import build.hearth.core.Hearth;
import build.hearth.core.Storage;
import build.hearth.core.execroot.ExecRoots;
import build.hearth.spi.storage.BlobStore;
import build.hearth.spi.storage.StoreContext;
import build.hearth.spi.storage.StoreProviderRegistry;
import build.hearth.spi.storage.StoreSettings;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.Stream;

/**
 * What both benchmarks set up once per trial: a memory source CAS, a {@code filesystem} local cache
 * in a temporary directory holding every blob of a {@link LargeInputTree}, and the worker's {@link
 * ExecRoots} over them. Not thread-safe; one benchmark thread.
 */
final class WorkerCache implements AutoCloseable {
  final Path directory;
  final Hearth server = Hearth.newBuilder().build();
  final BlobStore cacheStore;
  final ContentAddressableStorage cache;
  final ExecutorService fetchPool = Executors.newFixedThreadPool(4);
  final LargeInputTree tree;

  WorkerCache(int files, int directories) throws IOException {
    directory = Files.createTempDirectory("hearth-jmh-execroot-");
    StoreContext context =
        StoreContext.newBuilder(
                "workerCache",
                StoreSettings.of(
                    "workerCache", Map.of("path", directory.resolve("cache").toString())))
            .build();
    cacheStore =
        StoreProviderRegistry.discover(WorkerCache.class.getClassLoader())
            .createBlobStore("filesystem", "workerCache.type", 0, context);
    cache = Storage.cas(cacheStore);
    tree = LargeInputTree.build(files, directories, 256, 1.0, List.of(server.cas(), cache));
  }

  /** Exec roots in {@code name} under the directory, keeping checked directories or not. */
  ExecRoots execRoots(String name, boolean keepChecked) {
    ExecRoots.Builder builder =
        ExecRoots.newBuilder()
            .workDirectory(directory.resolve(name))
            .localCache(cacheStore)
            .source(server.cas())
            .executor(fetchPool);
    if (!keepChecked) {
      builder.maxCheckedDirectoryBytes(0);
    }
    return builder.build();
  }

  @Override
  public void close() {
    fetchPool.shutdownNow();
    cacheStore.close();
    server.close();
    delete(directory);
  }

  static void delete(Path root) {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(root)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        path.toFile().setWritable(true);
        Files.deleteIfExists(path);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
