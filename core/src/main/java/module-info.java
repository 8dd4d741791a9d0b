/**
 * Hearth's engine. Embedders use {@code build.hearth.core} ({@code Hearth}, {@code Storage}, {@code
 * ConfiguredStores}, {@code Closer}) and {@code build.hearth.core.config} (the configuration reader
 * and {@code PersistentWorkersConfig}); the persistent-worker statistics are the API's {@code
 * PoolStats}. Every other package is the engine's inside: exported only to Hearth's own transport
 * ({@code build.hearth.grpc}), remote worker ({@code build.hearth.agent}), server ({@code
 * build.hearth.server}) and web UI ({@code build.hearth.web}, which reads executions, schedulers
 * and workers' reports), so an embedder or plugin on the module path cannot come to depend on it.
 * The layering tests in hearth-architecture-tests hold the class path to the same rules.
 */
module build.hearth.core {
  requires transitive build.hearth.spi;
  requires com.fasterxml.jackson.core;
  requires org.slf4j;
  requires com.nimbusds.jose.jwt;
  requires io.prometheus.metrics.config;
  requires io.prometheus.metrics.core;
  requires io.prometheus.metrics.model;
  requires io.prometheus.writer.text;

  exports build.hearth.core;
  exports build.hearth.core.config;
  exports build.hearth.core.persistent to
      build.hearth.grpc,
      build.hearth.agent,
      build.hearth.server;
  exports build.hearth.core.cas to
      build.hearth.grpc,
      build.hearth.agent,
      build.hearth.server;
  exports build.hearth.core.execroot to
      build.hearth.grpc,
      build.hearth.agent,
      build.hearth.server;
  exports build.hearth.core.execution to
      build.hearth.grpc,
      build.hearth.agent,
      build.hearth.server,
      build.hearth.web;
  exports build.hearth.core.internal to
      build.hearth.grpc,
      build.hearth.agent,
      build.hearth.server;
  exports build.hearth.core.ops to
      build.hearth.grpc,
      build.hearth.agent,
      build.hearth.server,
      build.hearth.web;
  exports build.hearth.core.process to
      build.hearth.grpc,
      build.hearth.agent,
      build.hearth.server;
  exports build.hearth.core.remote to
      build.hearth.grpc,
      build.hearth.agent,
      build.hearth.server;
  exports build.hearth.core.sandbox to
      build.hearth.grpc,
      build.hearth.agent,
      build.hearth.server;
  exports build.hearth.core.scheduler to
      build.hearth.grpc,
      build.hearth.agent,
      build.hearth.server,
      build.hearth.web;
  exports build.hearth.core.security to
      build.hearth.grpc,
      build.hearth.agent,
      build.hearth.server;
  exports build.hearth.core.storage to
      build.hearth.grpc,
      build.hearth.agent,
      build.hearth.server;
  exports build.hearth.core.worker to
      build.hearth.grpc,
      build.hearth.agent,
      build.hearth.server;

  provides build.hearth.spi.storage.BlobStoreProvider with
      build.hearth.core.storage.MemoryBlobStoreProvider,
      build.hearth.core.storage.FilesystemBlobStoreProvider,
      build.hearth.core.storage.TieredBlobStoreProvider;
  provides build.hearth.spi.scheduler.SchedulerStateProvider with
      build.hearth.core.scheduler.MemorySchedulerStateProvider;
  provides build.hearth.spi.storage.ActionCacheStoreProvider with
      build.hearth.core.storage.MemoryActionCacheStoreProvider,
      build.hearth.core.storage.FilesystemActionCacheStoreProvider;
}
