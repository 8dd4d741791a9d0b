package build.hearth.spi.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import build.hearth.api.ConfigException;
import java.math.BigInteger;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Settings built in code take whole numbers of any integral type, and say so when they do not. */
class StoreSettingsNumbersTest {

  @Test
  void everyIntegralNumberTypeIsASizeAndACount() {
    for (Object n :
        new Object[] {
          1048576, 1048576L, BigInteger.valueOf(1048576), (short) 16, (byte) 16, 16, 16L
        }) {
      StoreSettings settings = StoreSettings.of("blobStore", Map.of("maxSize", n, "count", n));
      long expected = ((Number) n).longValue();
      assertThat(settings.bytes("maxSize")).as("bytes from %s", n.getClass()).hasValue(expected);
      assertThat(settings.number("count")).as("number from %s", n.getClass()).hasValue(expected);
    }
  }

  @Test
  void aNegativeSizeIsCalledNegativeNotAMismatchedExample() {
    StoreSettings settings = StoreSettings.of("blobStore", Map.of("maxSize", -5));
    assertThatThrownBy(() -> settings.bytes("maxSize"))
        .isInstanceOf(ConfigException.class)
        .hasMessage(
            "blobStore.maxSize: expected a size in bytes of at least 0, found the negative"
                + " number -5");
  }

  @Test
  void aFractionOrAHugeNumberSaysWhatIsWrongWithIt() {
    StoreSettings settings =
        StoreSettings.of(
            "blobStore", Map.of("maxSize", 1048576.0, "count", BigInteger.ONE.shiftLeft(70)));
    assertThatThrownBy(() -> settings.bytes("maxSize"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("found the number 1048576.0 of type Double")
        .hasMessageContaining("without a fraction or exponent");
    assertThatThrownBy(() -> settings.number("count"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("which does not fit in 64 bits");
  }
}
