package build.hearth.core.config;

import static build.hearth.core.config.ConfigTestSupport.errorOf;
import static build.hearth.core.config.ConfigTestSupport.withInstances;
import static build.hearth.core.config.ConfigTestSupport.withWorkers;
import static org.assertj.core.api.Assertions.assertThat;

import build.hearth.api.ConfigException;
import org.junit.jupiter.api.Test;

/**
 * The bounds on Directory and Tree blobs read whole: an instance's {@code maxDirectorySize} and
 * {@code maxTreeSize}, and a worker's {@code maxDirectorySize} (in-process and standalone).
 */
class DirectoryBoundsConfigTest {

  private static InstanceConfig instance(String json) {
    return HearthConfig.parse(withInstances("{ \"\": " + json + " }"), "t")
        .servers()
        .get(0)
        .instances()
        .get("");
  }

  @Test
  void anInstanceHasTheDefaultsUnlessItSetsBoth() {
    InstanceConfig defaults = instance("{ \"cas\": \"cas\" }");
    assertThat(defaults.maxDirectoryBytes()).isEqualTo(16L << 20);
    assertThat(defaults.maxTreeBytes()).isEqualTo(1L << 30);

    InstanceConfig set =
        instance(
            "{ \"cas\": \"cas\", \"maxDirectorySize\": \"4MiB\", \"maxTreeSize\": \"64MiB\" }");
    assertThat(set.maxDirectoryBytes()).isEqualTo(4L << 20);
    assertThat(set.maxTreeBytes()).isEqualTo(64L << 20);
  }

  @Test
  void badInstanceBoundsAreRefusedNamingTheField() {
    ConfigException tiny =
        errorOf(withInstances("{ \"\": { \"cas\": \"cas\", \"maxDirectorySize\": 10 } }"));
    assertThat(tiny.path()).isEqualTo("servers[0].instances.\"\".maxDirectorySize");
    assertThat(tiny.getMessage()).contains("must be from 1024 bytes");

    ConfigException huge =
        errorOf(withInstances("{ \"\": { \"cas\": \"cas\", \"maxDirectorySize\": \"4GiB\" } }"));
    assertThat(huge.path()).isEqualTo("servers[0].instances.\"\".maxDirectorySize");

    ConfigException treeBelowDirectory =
        errorOf(
            withInstances(
                "{ \"\": { \"cas\": \"cas\", \"maxDirectorySize\": \"8MiB\","
                    + " \"maxTreeSize\": \"1MiB\" } }"));
    assertThat(treeBelowDirectory.path()).isEqualTo("servers[0].instances.\"\".maxTreeSize");
    assertThat(treeBelowDirectory.getMessage())
        .contains("at least maxDirectorySize (8388608 bytes)");

    ConfigException notASize =
        errorOf(withInstances("{ \"\": { \"cas\": \"cas\", \"maxTreeSize\": \"big\" } }"));
    assertThat(notASize.path()).isEqualTo("servers[0].instances.\"\".maxTreeSize");
  }

  @Test
  void workersTakeTheirOwnDirectoryBound() {
    WorkerConfig inProcess =
        HearthConfig.parse(
                withWorkers(
                    "[ { \"name\": \"w\", \"scheduler\": \"main\","
                        + " \"maxDirectorySize\": \"2MiB\" } ]"),
                "t")
            .workers()
            .get(0);
    assertThat(inProcess.maxDirectoryBytes()).isEqualTo(2L << 20);
    assertThat(
            HearthConfig.parse(withWorkers("[ { \"name\": \"w\", \"scheduler\": \"main\" } ]"), "t")
                .workers()
                .get(0)
                .maxDirectoryBytes())
        .isEqualTo(16L << 20);
    assertThat(
            WorkerConfig.parseStandalone("{\"maxDirectorySize\": \"1MiB\"}", "worker.json")
                .maxDirectoryBytes())
        .isEqualTo(1L << 20);

    ConfigException bad =
        errorOf(
            withWorkers(
                "[ { \"name\": \"w\", \"scheduler\": \"main\", \"maxDirectorySize\": 1 } ]"));
    assertThat(bad.path()).isEqualTo("workers[0].maxDirectorySize");
  }
}
