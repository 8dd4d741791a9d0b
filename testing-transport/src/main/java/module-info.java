/**
 * Hearth's conformance suite for transport plugins. It talks to the plugin over a gRPC channel the
 * implementer supplies, so JUnit's API and gRPC's channel types are read transitively. The package
 * is open to JUnit, which reflects into the suite's members to run it.
 */
module build.hearth.testing.transport {
  requires transitive build.hearth.spi;
  requires transitive org.junit.jupiter.api;
  requires transitive io.grpc;
  requires io.grpc.stub;
  requires io.grpc.protobuf;
  requires org.assertj.core;

  exports build.hearth.testing.transport;

  opens build.hearth.testing.transport to
      org.junit.platform.commons;
}
