/**
 * Hearth's conformance suites (TCK) for storage and transport plugins, and test fakes such as
 * {@link build.hearth.testing.FakeClock}.
 *
 * <p>The suites are JUnit 5 classes that a plugin's tests extend, and the transport suite talks to
 * the plugin over a gRPC channel the implementer supplies, so JUnit's API and gRPC's channel types
 * are read transitively. The package is open to JUnit, which reflects into the suites' members to
 * run them.
 */
module build.hearth.testing {
  requires transitive build.hearth.spi;
  requires transitive org.junit.jupiter.api;
  requires transitive io.grpc;
  requires io.grpc.stub;
  requires io.grpc.protobuf;
  requires org.assertj.core;

  exports build.hearth.testing;

  opens build.hearth.testing to
      org.junit.platform.commons;
}
