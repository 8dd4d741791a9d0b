/**
 * Hearth's plugin SPI: the storage providers (blob store, action-cache store) and transport
 * providers that a plugin implements and registers with {@code provides ... with ...} (or a {@code
 * META-INF/services} file on the class path), and the worker contract ({@code
 * build.hearth.spi.worker}) through which a transport lets remote workers join a scheduler, and the
 * access control ({@code build.hearth.spi.security}) a transport checks every call with, and the
 * scheduler state ({@code build.hearth.spi.scheduler}) that lets several servers share one queue.
 *
 * <p>{@link build.hearth.spi.storage.StoreProviderRegistry} and {@link
 * build.hearth.spi.transport.TransportProviderRegistry} look the providers up themselves, hence the
 * {@code uses} clauses. {@code build.hearth.spi.internal} is what the registries share and is not
 * exported.
 */
module build.hearth.spi {
  requires transitive build.hearth.api;
  requires org.slf4j;

  exports build.hearth.spi.scheduler;
  exports build.hearth.spi.security;
  exports build.hearth.spi.storage;
  exports build.hearth.spi.transport;
  exports build.hearth.spi.worker;

  uses build.hearth.spi.storage.BlobStoreProvider;
  uses build.hearth.spi.storage.ActionCacheStoreProvider;
  uses build.hearth.spi.transport.TransportProvider;
  uses build.hearth.spi.scheduler.SchedulerStateProvider;
}
