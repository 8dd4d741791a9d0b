/**
 * What the SPI's registries share: discovering, ranking and describing plugins. Internal to Hearth;
 * the module descriptor does not export this package, and nothing here is API.
 */
package build.hearth.spi.internal;
