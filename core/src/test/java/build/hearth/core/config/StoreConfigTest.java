package build.hearth.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import build.hearth.api.ConfigException;
import build.hearth.spi.storage.StoreSettings;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** How a store's provider-specific fields reach the provider through {@link StoreSettings}. */
class StoreConfigTest {
  private static final String JSON =
      """
      {
        "blobStores": {
          "disk": {
            "path": "/srv/cas",
            "type": "filesystem",
            "maxSize": "2GiB",
            "shards": 16,
            "ratio": 0.75,
            "verify": false,
            "tags": ["a", 1, true, { "k": "v" }],
            "nested": { "deeper": { "list": [] } },
          }
        },
        "servers": [ { "listen": "127.0.0.1:0", "instances": { "": { "cas": "disk" } } } ]
      }
      """;

  private final StoreConfig disk = HearthConfig.parse(JSON, "t").blobStores().get("disk");

  @Test
  void everyFieldButTypeBecomesAPlainJavaValue() {
    StoreSettings settings = disk.settings();

    assertThat(disk.name()).isEqualTo("disk");
    assertThat(disk.type()).isEqualTo("filesystem");
    assertThat(disk.typeLine()).isEqualTo(5);
    assertThat(settings.has("type")).isFalse();
    assertThat(settings.get("path")).isEqualTo("/srv/cas");
    assertThat(settings.get("shards")).isEqualTo(16L);
    assertThat(settings.get("ratio")).isEqualTo(0.75);
    assertThat(settings.get("verify")).isEqualTo(false);
    assertThat(settings.get("tags")).isEqualTo(List.of("a", 1L, true, Map.of("k", "v")));
    assertThat(settings.get("nested")).isEqualTo(Map.of("deeper", Map.of("list", List.of())));
    assertThat(settings.bytes("maxSize")).hasValue(2L << 30);
  }

  @Test
  void settingErrorsNameThePathAndLineOfTheField() {
    assertThatThrownBy(() -> disk.settings().requireString("shards"))
        .isInstanceOfSatisfying(
            ConfigException.class,
            e -> {
              assertThat(e.path()).isEqualTo("blobStores.disk.shards");
              assertThat(e.line()).isEqualTo(7);
              assertThat(e.getMessage())
                  .isEqualTo(
                      "blobStores.disk.shards (line 7): expected a string, found the number 16");
            });
  }

  @Test
  void eachCallGivesSettingsThatStartWithNothingAsked() {
    StoreSettings first = disk.settings();
    for (String key : List.of("path", "maxSize", "shards", "ratio", "verify", "tags", "nested")) {
      first.get(key);
    }
    first.rejectUnknown("filesystem");

    StoreSettings second = disk.settings();
    second.get("path");
    assertThatThrownBy(() -> second.rejectUnknown("filesystem"))
        .isInstanceOfSatisfying(
            ConfigException.class,
            e -> {
              assertThat(e.path()).isEqualTo("blobStores.disk.maxSize");
              assertThat(e.line()).isEqualTo(6);
            });
  }

  @Test
  void equalityIgnoresSourceLines() {
    String compact =
        "{\"blobStores\": {\"disk\": {\"path\": \"/srv/cas\", \"type\": \"filesystem\","
            + " \"maxSize\": \"2GiB\", \"shards\": 16, \"ratio\": 0.75, \"verify\": false,"
            + " \"tags\": [\"a\", 1, true, {\"k\": \"v\"}], \"nested\": {\"deeper\": {\"list\":"
            + " []}}}}, \"servers\": [{\"listen\": \"127.0.0.1:0\", \"instances\": {\"\": {\"cas\":"
            + " \"disk\"}}}]}";

    StoreConfig same = HearthConfig.parse(compact, "t").blobStores().get("disk");

    assertThat(same.typeLine()).isEqualTo(1);
    assertThat(same).isEqualTo(disk).hasSameHashCodeAs(disk);
  }
}
