package build.hearth.core.config;

import static build.hearth.core.config.ConfigTestSupport.errorOf;
import static org.assertj.core.api.Assertions.assertThat;

import build.hearth.api.ConfigException;
import org.junit.jupiter.api.Test;

/** The top-level {@code metrics} object: the bound on the persistent-worker series. */
class MetricsConfigTest {
  private static final String CONFIG =
      """
      {
        "blobStores": { "cas": { "type": "memory" } },
        METRICS
        "servers": [ { "listen": "127.0.0.1:0", "instances": { "": { "cas": "cas" } } } ]
      }
      """;

  private static String with(String metrics) {
    return CONFIG.replace("METRICS", metrics.isEmpty() ? "" : "\"metrics\": " + metrics + ",");
  }

  @Test
  void theSeriesCapDefaultsToFiveHundred() {
    assertThat(HearthConfig.parse(with(""), "t").maxPersistentWorkerSeries()).isEqualTo(500);
    assertThat(HearthConfig.parse(with("{}"), "t").maxPersistentWorkerSeries()).isEqualTo(500);
  }

  @Test
  void theSeriesCapBinds() {
    assertThat(
            HearthConfig.parse(with("{ \"maxPersistentWorkerSeries\": 50 }"), "t")
                .maxPersistentWorkerSeries())
        .isEqualTo(50);
  }

  @Test
  void badValuesNameTheFieldPath() {
    ConfigException zero = errorOf(with("{ \"maxPersistentWorkerSeries\": 0 }"));
    assertThat(zero.path()).isEqualTo("metrics.maxPersistentWorkerSeries");
    assertThat(zero.getMessage()).contains("must be at least 1");

    ConfigException text = errorOf(with("{ \"maxPersistentWorkerSeries\": \"many\" }"));
    assertThat(text.path()).isEqualTo("metrics.maxPersistentWorkerSeries");

    ConfigException unknown = errorOf(with("{ \"maxSeries\": 5 }"));
    assertThat(unknown.path()).isEqualTo("metrics.maxSeries");
    assertThat(unknown.getMessage()).contains("maxPersistentWorkerSeries");
  }
}
