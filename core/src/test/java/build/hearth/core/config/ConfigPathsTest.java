package build.hearth.core.config;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ConfigPathsTest {

  @Test
  void plainKeysAreDotted() {
    assertThat(ConfigPaths.member("", "servers")).isEqualTo("servers");
    assertThat(ConfigPaths.member("blobStores", "cas-2_b")).isEqualTo("blobStores.cas-2_b");
  }

  @Test
  void arrayElementsAreIndexed() {
    assertThat(ConfigPaths.element("servers", 3)).isEqualTo("servers[3]");
  }

  @Test
  void emptyAndUnusualKeysAreQuoted() {
    assertThat(ConfigPaths.member("servers[0].instances", ""))
        .isEqualTo("servers[0].instances.\"\"");
    assertThat(ConfigPaths.member("blobStores", "team.cache"))
        .isEqualTo("blobStores.\"team.cache\"");
    assertThat(ConfigPaths.member("i", "a/b")).isEqualTo("i.\"a/b\"");
    assertThat(ConfigPaths.member("i", "say \"hi\"\\\n")).isEqualTo("i.\"say \\\"hi\\\"\\\\\\n\"");
    assertThat(ConfigPaths.member("i", "\u0001")).isEqualTo("i.\"\\u0001\"");
  }

  @Test
  void displayUsesSingleQuotesForPlainKeys() {
    assertThat(ConfigPaths.display("cas")).isEqualTo("'cas'");
    assertThat(ConfigPaths.display("")).isEqualTo("\"\"");
  }
}
