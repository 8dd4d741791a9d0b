/**
 * Hearth's configuration file: the immutable model ({@link build.hearth.core.config.HearthConfig}
 * and the store, scheduler, server, instance and worker objects it holds, and {@link
 * build.hearth.core.config.WorkerConfig} alone for a standalone worker's file) and the reader that
 * builds it. The reader accepts JSON with comments and trailing commas, keeps the line of every
 * value, and binds the document to the model by hand, so that every mistake (an unknown field, a
 * wrong type, a missing or duplicate field, a reference to a store, scheduler or instance that does
 * not exist) becomes a {@link build.hearth.api.ConfigException} naming the field's JSON path and
 * line. Provider-specific store settings are carried through untouched; the provider reads them
 * through {@link build.hearth.spi.storage.StoreSettings}.
 */
package build.hearth.core.config;
