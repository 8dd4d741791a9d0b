package build.hearth.server;

import build.hearth.api.ContentAddressableStorage;
import build.hearth.core.config.WorkerConfig;
import build.hearth.core.execution.ActionOutcome;
import build.hearth.core.execution.ActionRunner;
import build.hearth.core.execution.Cancellation;
import build.hearth.core.execution.ExecutionTask;
import build.hearth.core.persistent.PoolStats;
import build.hearth.core.worker.LocalActionRunner;
import build.hearth.spi.storage.BlobStore;
import build.hearth.spi.storage.StoreContext;
import build.hearth.spi.storage.StoreProviderRegistry;
import build.hearth.spi.storage.StoreSettings;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * What one worker needs on this machine, made from its configuration: the local CAS cache (a {@code
 * filesystem} store, so inputs can be hard-linked from it) and the {@link ActionRunner} that builds
 * exec roots from it. Used by in-process workers and by {@code hearth worker} alike. It runs
 * actions through that runner; closing it closes the runner, then the cache.
 */
final class WorkerRuntime implements ActionRunner {
  private final BlobStore cache;
  private final LocalActionRunner runner;

  private WorkerRuntime(BlobStore cache, LocalActionRunner runner) {
    this.cache = cache;
    this.runner = runner;
  }

  /**
   * @param casForInstance where each instance's inputs come from and outputs go to
   */
  static WorkerRuntime open(
      WorkerConfig worker,
      StoreProviderRegistry registry,
      Function<String, ContentAddressableStorage> casForInstance) {
    String path = "workers." + worker.name() + ".cache";
    StoreSettings settings =
        StoreSettings.of(
            path,
            Map.of(
                "path", worker.cachePath().toString(),
                "maxSize", worker.cacheMaxSizeBytes()));
    BlobStore cache =
        registry.createBlobStore(
            "filesystem",
            path + ".type",
            0,
            StoreContext.newBuilder(worker.name() + "-cache", settings).build());
    try {
      LocalActionRunner runner =
          LocalActionRunner.newBuilder()
              .workerName(worker.name())
              .workDirectory(worker.workDirectory())
              .localCache(cache)
              .cas(casForInstance)
              .persistentWorkers(worker.persistentWorkers())
              .build();
      return new WorkerRuntime(cache, runner);
    } catch (RuntimeException e) {
      cache.close();
      throw e;
    }
  }

  @Override
  public ActionOutcome run(ExecutionTask task, Cancellation cancellation) {
    return runner.run(task, cancellation);
  }

  /** The persistent-worker pool's statistics; empty when persistent workers are disabled. */
  Optional<PoolStats> persistentWorkerStats() {
    return runner.persistentWorkerStats();
  }

  /** See {@link LocalActionRunner#onWarmProcessesChanged}. */
  void onWarmProcessesChanged(Consumer<Map<String, Integer>> listener) {
    runner.onWarmProcessesChanged(listener);
  }

  @Override
  public void close() {
    try {
      runner.close();
    } finally {
      cache.close();
    }
  }
}
