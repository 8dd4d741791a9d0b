/**
 * Load drivers and benchmarks that measure Hearth from the outside, each starting a server
 * in-process and driving it over a loopback gRPC connection: {@link
 * build.hearth.benchmarks.CasLoadDriver} compares the content-addressable storage's upload speed
 * with the machine's single-core SHA-256 speed, and {@link
 * build.hearth.benchmarks.ExecuteLoadDriver} compares the latency and throughput of executing a
 * trivial command through Execute with spawning it directly; {@link
 * build.hearth.benchmarks.InputTreeDriver} measures a worker's exec-root set-up, validation and
 * directory sync of a large cached input tree against {@code cp -al}, in-process without a server;
 * {@link build.hearth.benchmarks.Benchmarks} is the runnable jar's entry point for all of them. JMH
 * microbenchmarks live in the {@code jmh} subpackages. Nothing here is a test; results are read by
 * people (see {@code docs/benchmarks.md}), never asserted by the build.
 */
package build.hearth.benchmarks;
