package build.hearth.core;

import build.hearth.api.ActionCache;
import build.hearth.api.ConfigException;
import build.hearth.api.ContentAddressableStorage;
import build.hearth.api.ExecutionService;
import build.hearth.api.PoolStats;
import build.hearth.core.config.PersistentWorkersConfig;
import build.hearth.core.execution.ExecutionServices;
import build.hearth.core.internal.DirectoryLock;
import build.hearth.core.scheduler.Scheduler;
import build.hearth.core.scheduler.WarmWorkers;
import build.hearth.core.worker.WorkerRuntime;
import build.hearth.spi.storage.BlobStore;
import build.hearth.spi.storage.LocalBlobFiles;
import build.hearth.spi.storage.StoreProviderRegistry;
import build.hearth.spi.worker.ActionOutcome;
import build.hearth.spi.worker.ExecutionTask;
import build.hearth.spi.worker.WorkerSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import java.util.Optional;

/**
 * Remote execution inside an embedding process: a scheduler, one local worker (with its
 * persistent-worker pool) and the execution service in front of them, over {@link Hearth}'s CAS and
 * action cache. Closing it stops them in reverse order.
 */
final class LocalExecution implements AutoCloseable {
  private static final String WORKER = "local";
  private static final String LOCK_FILE = "exec.lock";

  private final Closer resources;
  private final ExecutionService service;
  private final WorkerRuntime worker;

  private LocalExecution(Closer resources, ExecutionService service, WorkerRuntime worker) {
    this.resources = resources;
    this.service = service;
    this.worker = worker;
  }

  static LocalExecution start(
      Path workDirectory,
      int slots,
      PersistentWorkersConfig persistentWorkers,
      long cacheBytes,
      BlobStore blobStore,
      ContentAddressableStorage cas,
      ActionCache actionCache,
      StoreProviderRegistry providers,
      Clock clock) {
    Closer resources = new Closer();
    try {
      resources.register(lockDirectory(workDirectory));
      // Inputs are hard-linked from a store that keeps blobs in files: the embedder's own store
      // when it is one, else a cache of the worker's.
      WorkerRuntime.Builder runtime =
          WorkerRuntime.newBuilder(WORKER)
              .workDirectory(workDirectory.resolve("work"))
              .cas(instance -> cas)
              .clock(clock)
              .persistentWorkers(persistentWorkers);
      if (blobStore instanceof LocalBlobFiles) {
        runtime.sharedCache(blobStore);
      } else {
        runtime.cache(
            providers, "localExecution.cache", workDirectory.resolve("cache"), cacheBytes);
      }
      WarmWorkers warm = new WarmWorkers();
      Scheduler<ExecutionTask, ActionOutcome> scheduler =
          resources.register(
              Scheduler.newBuilder()
                  .unknownPropertyType(build.hearth.core.scheduler.PropertyType.IGNORE)
                  .workerScorer(warm)
                  .clock(clock)
                  .build());
      WorkerRuntime worker = resources.register(runtime.build());
      // No sandbox here (the runtime's default), so the worker offers network=on.
      worker.serve(
          WorkerSpec.builder(WORKER)
              .slots(slots)
              .properties(worker.offeredProperties(Map.of()))
              .build(),
          scheduler,
          warm);
      ExecutionService service =
          ExecutionServices.newBuilder()
              .cas(cas)
              .actionCache(actionCache)
              .scheduler(scheduler)
              .clock(clock)
              .build();
      return new LocalExecution(resources, service, worker);
    } catch (RuntimeException e) {
      resources.closeAfter(e);
      throw e;
    }
  }

  /**
   * Claims {@code workDirectory} for this instance: a second instance over it, in this process or
   * another, would share exec roots and persistent worker processes with this one.
   */
  private static DirectoryLock lockDirectory(Path workDirectory) {
    try {
      Files.createDirectories(workDirectory);
    } catch (IOException e) {
      throw new ConfigException(
          "localExecution", 0, "cannot create the directory " + workDirectory + ": " + e);
    }
    return DirectoryLock.acquire(
        workDirectory.resolve(LOCK_FILE),
        "local execution",
        problem -> new ConfigException("localExecution", 0, problem));
  }

  ExecutionService service() {
    return service;
  }

  Optional<PoolStats> persistentWorkerStats() {
    return worker.persistentWorkerStats();
  }

  @Override
  public void close() {
    resources.close();
  }
}
