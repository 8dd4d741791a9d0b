/**
 * Load drivers and benchmarks that measure Hearth from the outside: {@link
 * build.hearth.benchmarks.CasLoadDriver} starts a server in-process and drives its
 * content-addressable storage over a loopback gRPC connection, comparing the upload speed with the
 * machine's single-core SHA-256 speed measured in the same run. Nothing here is a test; results are
 * read by people (see {@code docs/benchmarks.md}), never asserted by the build.
 */
package build.hearth.benchmarks;
