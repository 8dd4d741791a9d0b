package build.hearth.testing.crossing;

import java.time.Duration;

/**
 * A deliberately crossed layer (the conformance suites reaching core.internal), for
 * LayeringCatchesCrossedLayersTest only.
 */
public final class TestingUsingCoreInternal {
  private TestingUsingCoreInternal() {}

  static String format() {
    return build.hearth.core.internal.Durations.format(Duration.ofSeconds(1));
  }
}
