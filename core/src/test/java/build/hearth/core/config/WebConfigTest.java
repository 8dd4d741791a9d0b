package build.hearth.core.config;

import static build.hearth.core.config.ConfigTestSupport.errorOf;
import static org.assertj.core.api.Assertions.assertThat;

import build.hearth.api.ConfigException;
import org.junit.jupiter.api.Test;

/** The top-level {@code web} section. */
class WebConfigTest {
  private static String withWeb(String web) {
    return """
        {
          "blobStores": { "cas": { "type": "memory" } },
          "servers": [ { "listen": "127.0.0.1:0", "instances": { "": { "cas": "cas" } } } ],
          "web": %s
        }
        """
        .formatted(web);
  }

  @Test
  void withoutASectionTheDefaultsHold() {
    HearthConfig config =
        HearthConfig.parse(
            """
            {
              "blobStores": { "cas": { "type": "memory" } },
              "servers": [ { "listen": "127.0.0.1:0", "instances": { "": { "cas": "cas" } } } ]
            }
            """,
            "t");
    assertThat(config.web()).isEqualTo(WebConfig.DEFAULTS);
    assertThat(WebConfig.DEFAULTS.recentActions()).isEqualTo(10_000);
    assertThat(WebConfig.DEFAULTS.recentActionsMaxBytes()).isEqualTo(64L << 20);
    assertThat(HearthConfig.embeddedDefault().web()).isEqualTo(WebConfig.DEFAULTS);
  }

  @Test
  void everyFieldIsRead() {
    WebConfig web =
        HearthConfig.parse(
                withWeb(
                    """
                    { "enabled": false, "externalUrl": "https://hearth.example.com/ci",
                      "recentActions": 50, "recentActionsMaxSize": "1MiB", "threads": 2,
                      "maxQueuedPages": 0 }
                    """),
                "t")
            .web();
    assertThat(web)
        .isEqualTo(new WebConfig(false, "https://hearth.example.com/ci", 50, 1 << 20, 2, 0));
  }

  @Test
  void theDocumentedExampleParses() throws java.io.IOException {
    String docs =
        java.nio.file.Files.readString(java.nio.file.Path.of("..", "docs", "configuration.md"));
    String section = docs.substring(docs.indexOf("## Web UI"));
    String start = "```jsonc config\n";
    String block =
        section.substring(
            section.indexOf(start) + start.length(),
            section.indexOf("```\n", section.indexOf(start) + start.length()));
    assertThat(HearthConfig.parse(block, "configuration.md").web())
        .isEqualTo(new WebConfig(true, "https://hearth.example.com", 10_000, 64L << 20, 4, 100));
  }

  @Test
  void mistakesNameTheField() {
    ConfigException url = errorOf(withWeb("{ \"externalUrl\": \"javascript:alert(1)\" }"));
    assertThat(url.path()).isEqualTo("web.externalUrl");
    assertThat(url.getMessage()).contains("not an http or https URL");

    ConfigException count = errorOf(withWeb("{ \"recentActions\": 0 }"));
    assertThat(count.path()).isEqualTo("web.recentActions");

    ConfigException size = errorOf(withWeb("{ \"recentActionsMaxSize\": \"1KiB\" }"));
    assertThat(size.path()).isEqualTo("web.recentActionsMaxSize");
    assertThat(size.getMessage()).contains("at least 64KiB");

    ConfigException threads = errorOf(withWeb("{ \"threads\": 0 }"));
    assertThat(threads.path()).isEqualTo("web.threads");
    assertThat(threads.getMessage()).contains("at least one thread");

    ConfigException queued = errorOf(withWeb("{ \"maxQueuedPages\": -1 }"));
    assertThat(queued.path()).isEqualTo("web.maxQueuedPages");

    ConfigException unknown = errorOf(withWeb("{ \"recentAction\": 5 }"));
    assertThat(unknown.getMessage()).contains("recentActions");
  }
}
