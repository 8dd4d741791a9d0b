package build.hearth.core.scheduler;

import build.bazel.remote.execution.v2.Platform;

/** REAPI platforms for the tests of the scheduler and of what submits to it. */
public final class Platforms {
  private Platforms() {}

  /** {@code platform("OSFamily", "linux", "cpu_count", "4")}: name, value, name, value, ... */
  public static Platform platform(String... namesAndValues) {
    Platform.Builder platform = Platform.newBuilder();
    for (int i = 0; i < namesAndValues.length; i += 2) {
      platform.addPropertiesBuilder().setName(namesAndValues[i]).setValue(namesAndValues[i + 1]);
    }
    return platform.build();
  }
}
