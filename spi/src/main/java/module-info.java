/**
 * Hearth's plugin SPI: the storage providers (blob store, action-cache store) and transport
 * providers that a plugin implements and registers with {@code provides ... with ...} (or a {@code
 * META-INF/services} file on the class path).
 *
 * <p>{@link build.hearth.spi.storage.StoreProviderRegistry} looks storage providers up itself,
 * hence the {@code uses} clauses; transport providers are looked up by the server that embeds this
 * module.
 */
module build.hearth.spi {
  requires transitive build.hearth.api;
  requires org.slf4j;

  exports build.hearth.spi.storage;
  exports build.hearth.spi.transport;

  uses build.hearth.spi.storage.BlobStoreProvider;
  uses build.hearth.spi.storage.ActionCacheStoreProvider;
}
