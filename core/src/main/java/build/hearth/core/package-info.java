/**
 * Hearth's engine, entered through a few public classes: {@link build.hearth.core.Hearth} (the
 * embedding builder), {@link build.hearth.core.Storage} (the CAS and action cache over storage
 * plugins) and {@link build.hearth.core.ConfiguredStores} (the stores a configuration names) and
 * {@link build.hearth.core.Closer} (closes what a start opened, in reverse). Implementations live
 * in sub-packages that the module does not export.
 */
package build.hearth.core;
