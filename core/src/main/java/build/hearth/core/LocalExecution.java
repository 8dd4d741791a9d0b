package build.hearth.core;

import build.hearth.api.ActionCache;
import build.hearth.api.ContentAddressableStorage;
import build.hearth.api.ExecutionService;
import build.hearth.core.config.PersistentWorkersConfig;
import build.hearth.core.execution.ActionOutcome;
import build.hearth.core.execution.ExecutionServices;
import build.hearth.core.execution.ExecutionTask;
import build.hearth.core.persistent.PoolStats;
import build.hearth.core.scheduler.Scheduler;
import build.hearth.core.scheduler.WarmWorkers;
import build.hearth.core.scheduler.WorkerSpec;
import build.hearth.core.storage.LocalBlobFiles;
import build.hearth.core.worker.LocalActionRunner;
import build.hearth.core.worker.LocalWorker;
import build.hearth.spi.storage.BlobStore;
import build.hearth.spi.storage.StoreContext;
import build.hearth.spi.storage.StoreProviderRegistry;
import build.hearth.spi.storage.StoreSettings;
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
  private static final long CACHE_SIZE = 10L << 30;

  private final Closer resources;
  private final ExecutionService service;
  private final LocalActionRunner runner;

  private LocalExecution(Closer resources, ExecutionService service, LocalActionRunner runner) {
    this.resources = resources;
    this.service = service;
    this.runner = runner;
  }

  static LocalExecution start(
      Path workDirectory,
      int slots,
      PersistentWorkersConfig persistentWorkers,
      BlobStore blobStore,
      ContentAddressableStorage cas,
      ActionCache actionCache,
      StoreProviderRegistry providers,
      Clock clock) {
    Closer resources = new Closer();
    try {
      // Inputs are hard-linked from a store that keeps blobs in files: the embedder's own store
      // when it is one, else a cache of the worker's.
      BlobStore localCache = blobStore;
      if (!(blobStore instanceof LocalBlobFiles)) {
        StoreContext context =
            StoreContext.newBuilder(
                    "localExecution.cache",
                    StoreSettings.of(
                        "localExecution.cache",
                        Map.of(
                            "path",
                            workDirectory.resolve("cache").toString(),
                            "maxSize",
                            CACHE_SIZE)))
                .clock(clock)
                .build();
        localCache =
            resources.register(
                providers.createBlobStore("filesystem", "localExecution.cache.type", 0, context));
      }
      WarmWorkers warm = new WarmWorkers();
      Scheduler<ExecutionTask, ActionOutcome> scheduler =
          resources.register(
              Scheduler.newBuilder()
                  .unknownPropertyType(build.hearth.core.scheduler.PropertyType.IGNORE)
                  .workerScorer(warm)
                  .clock(clock)
                  .build());
      LocalActionRunner runner =
          resources.register(
              LocalActionRunner.newBuilder()
                  .workerName(WORKER)
                  .workDirectory(workDirectory.resolve("work"))
                  .localCache(localCache)
                  .cas(instance -> cas)
                  .clock(clock)
                  .persistentWorkers(persistentWorkers)
                  .build());
      LocalWorker worker =
          resources.register(
              LocalWorker.newBuilder()
                  .spec(WorkerSpec.builder(WORKER).slots(slots).build())
                  .runner(runner)
                  .warmWorkers(warm)
                  .build());
      runner.onWarmProcessesChanged(worker::reportWarmProcesses);
      worker.connect(scheduler);
      ExecutionService service =
          ExecutionServices.newBuilder()
              .cas(cas)
              .actionCache(actionCache)
              .scheduler(scheduler)
              .clock(clock)
              .build();
      return new LocalExecution(resources, service, runner);
    } catch (RuntimeException e) {
      resources.closeAfter(e);
      throw e;
    }
  }

  ExecutionService service() {
    return service;
  }

  Optional<PoolStats> persistentWorkerStats() {
    return runner.persistentWorkerStats();
  }

  @Override
  public void close() {
    resources.close();
  }
}
