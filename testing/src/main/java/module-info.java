/**
 * Hearth's conformance suites (TCK) for storage plugins, and test fakes such as {@link
 * build.hearth.testing.FakeClock}. No gRPC: the transport suite is {@code
 * build.hearth.testing.transport}.
 *
 * <p>The suites are JUnit 5 classes that a plugin's tests extend, so JUnit's API is read
 * transitively. The package is open to JUnit, which reflects into the suites' members to run them.
 */
module build.hearth.testing {
  requires transitive build.hearth.spi;
  requires transitive org.junit.jupiter.api;
  requires org.assertj.core;

  exports build.hearth.testing;

  opens build.hearth.testing to
      org.junit.platform.commons;
}
