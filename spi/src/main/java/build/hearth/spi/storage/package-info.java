/**
 * The storage plugin SPI: {@link build.hearth.spi.storage.BlobStore} and {@link
 * build.hearth.spi.storage.ActionCacheStore}, the providers that create them by type name, and the
 * registry that discovers providers with {@link java.util.ServiceLoader}. Implementable with bytes,
 * streams and {@link build.hearth.api.Digest} alone.
 */
package build.hearth.spi.storage;
