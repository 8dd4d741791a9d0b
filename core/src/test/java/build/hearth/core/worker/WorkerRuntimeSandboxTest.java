package build.hearth.core.worker;

import static org.assertj.core.api.Assertions.assertThat;

import build.hearth.core.config.SandboxConfig;
import build.hearth.core.sandbox.SandboxCapabilities;
import build.hearth.core.sandbox.SandboxCapabilities.Part;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a worker offers its scheduler from what its sandbox does. */
class WorkerRuntimeSandboxTest {
  private static final SandboxConfig NO_NETWORK = SandboxConfig.DEFAULT;
  private static final SandboxConfig ALLOWS_NETWORK =
      new SandboxConfig(
          SandboxConfig.Mode.REQUIRED,
          "nobody",
          "",
          true,
          NO_NETWORK.memoryLimitBytes(),
          NO_NETWORK.maxMemoryLimitBytes(),
          NO_NETWORK.processLimit(),
          NO_NETWORK.maxProcessLimit(),
          NO_NETWORK.readOnlyPaths(),
          NO_NETWORK.bubblewrap());

  private static SandboxCapabilities probed(Set<Part> available, Map<Part, String> refused) {
    return new SandboxCapabilities(
        SandboxConfig.Mode.OPTIONAL, available, refused, "v1", "nobody (65534:65534)");
  }

  @Test
  void aWorkerThatCutsActionsOffTheNetworkOffersOff() {
    assertThat(WorkerRuntime.networkValues(NO_NETWORK, probed(EnumSet.allOf(Part.class), Map.of())))
        .containsExactly("off");
  }

  @Test
  void aWorkerThatAlsoAllowsTheNetworkOffersBoth() {
    assertThat(
            WorkerRuntime.networkValues(
                ALLOWS_NETWORK, probed(EnumSet.allOf(Part.class), Map.of())))
        .containsExactly("off", "on");
  }

  @Test
  void aWorkerWithoutSandboxOffersOnOnly() {
    assertThat(WorkerRuntime.networkValues(SandboxConfig.OFF, SandboxCapabilities.off("me")))
        .containsExactly("on");
  }

  @Test
  void aWorkerWhoseKernelRefusedTheNetworkNamespaceOffersNeitherUnlessAllowed() {
    SandboxCapabilities noNetwork =
        probed(EnumSet.of(Part.MOUNT, Part.PID), Map.of(Part.NETWORK, "RTM_NEWADDR refused"));

    assertThat(WorkerRuntime.networkValues(NO_NETWORK, noNetwork)).isEmpty();
    assertThat(WorkerRuntime.networkValues(ALLOWS_NETWORK, noNetwork)).containsExactly("on");
  }

  @Test
  void aRuntimeAddsItsNetworkToTheConfiguredProperties(@TempDir Path dir) {
    try (WorkerTestSupport support = new WorkerTestSupport(dir);
        WorkerRuntime runtime =
            WorkerRuntime.newBuilder("w")
                .workDirectory(support.workDir)
                .sharedCache(support.cacheStore)
                .cas(instance -> support.cas())
                .sandbox(SandboxConfig.OFF)
                .build()) {
      Map<String, List<String>> offered =
          runtime.offeredProperties(Map.of("OSFamily", List.of("linux")));

      assertThat(offered)
          .containsEntry("OSFamily", List.of("linux"))
          .containsEntry(
              "network",
              WorkerRuntime.networkValues(SandboxConfig.OFF, runtime.sandboxCapabilities()));
      assertThat(offered.get("network")).contains("on");
    }
  }
}
