/**
 * The content-addressable store and action cache logic over the storage SPI: verified streaming
 * writes, offset and limit reads, breadth-first tree pages, and action results checked against the
 * CAS. Internal: reached through {@link build.hearth.core.Storage}.
 */
package build.hearth.core.cas;
