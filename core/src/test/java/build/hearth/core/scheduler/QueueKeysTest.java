package build.hearth.core.scheduler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import build.bazel.remote.execution.v2.Platform;
import java.util.Map;
import org.junit.jupiter.api.Test;

class QueueKeysTest {
  private static final PropertyTypes TYPES =
      new PropertyTypes(
          Map.of(
              "OSFamily", PropertyType.EXACT,
              "container-image", PropertyType.EXACT,
              "cpu_count", PropertyType.MINIMUM,
              "pool", PropertyType.PRIORITY),
          null);

  private static Requirements.Key key(String... nameValues) {
    Platform.Builder platform = Platform.newBuilder();
    for (int i = 0; i < nameValues.length; i += 2) {
      platform.addPropertiesBuilder().setName(nameValues[i]).setValue(nameValues[i + 1]);
    }
    return Requirements.parse("a", platform.build(), TYPES).key();
  }

  @Test
  void aKeyReadsAsItsRequirementsAndBack() {
    Requirements.Key key = key("OSFamily", "linux", "cpu_count", "4", "pool", "fast");

    assertThat(QueueKeys.text(key)).isEqualTo("OSFamily=linux;cpu_count>=4");
    assertThat(QueueKeys.parse(QueueKeys.text(key))).isEqualTo(key);
    assertThat(QueueKeys.text(key())).isEmpty();
    assertThat(QueueKeys.parse("")).isEqualTo(key());
  }

  @Test
  void equalKeysGiveEqualTextsWhateverTheOrderOfTheProperties() {
    assertThat(QueueKeys.text(key("cpu_count", "4", "OSFamily", "linux")))
        .isEqualTo(QueueKeys.text(key("OSFamily", "linux", "cpu_count", "4.0")));
    Requirements.Key tens = key("cpu_count", "40");
    assertThat(QueueKeys.text(tens)).isEqualTo("cpu_count>=40");
    assertThat(QueueKeys.parse("cpu_count>=40")).isEqualTo(tens);
    assertThat(QueueKeys.text(key("container-image", "b", "container-image", "a")))
        .isEqualTo("container-image=a;container-image=b");
  }

  @Test
  void separatorsInValuesAreEscapedAndReadBack() {
    Requirements.Key key = key("container-image", "docker://r/i;x=y>=z\\w", "cpu_count", "2.5");

    String text = QueueKeys.text(key);

    assertThat(text).isEqualTo("container-image=docker://r/i\\;x\\=y\\>\\=z\\\\w;cpu_count>=2.5");
    assertThat(QueueKeys.parse(text)).isEqualTo(key);
  }

  @Test
  void aTextThatIsNoKeyIsRefused() {
    assertThatThrownBy(() -> QueueKeys.parse("OSFamily"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> QueueKeys.parse("cpu_count>4"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> QueueKeys.parse("cpu_count>=four"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> QueueKeys.parse("a=b\\")).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void aPersistentWorkerKeyFollowsAHashAndDoesNotChangeTheRequirements() {
    Requirements.Key key = key("OSFamily", "li#nux");

    String text = QueueKeys.text(key, "k#1;=");

    assertThat(text).isEqualTo("OSFamily=li\\#nux#k\\#1\\;\\=");
    assertThat(QueueKeys.warmKey(text)).isEqualTo("k#1;=");
    assertThat(QueueKeys.parse(text)).isEqualTo(key);
    assertThat(QueueKeys.text(key, "")).isEqualTo(QueueKeys.text(key));
    assertThat(QueueKeys.warmKey(QueueKeys.text(key))).isEmpty();
  }
}
