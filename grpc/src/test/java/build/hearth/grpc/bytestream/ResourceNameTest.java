package build.hearth.grpc.bytestream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import build.hearth.api.Digest;
import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ResourceNameTest {
  private static final Digest DIGEST =
      Digest.of("hello".getBytes(java.nio.charset.StandardCharsets.UTF_8));

  @Test
  void readNames() {
    assertThat(ResourceName.parseRead("blobs/" + DIGEST))
        .isEqualTo(new ResourceName("", "", DIGEST));
    assertThat(ResourceName.parseRead("main/blobs/" + DIGEST))
        .isEqualTo(new ResourceName("main", "", DIGEST));
    assertThat(ResourceName.parseRead("a/b/c/blobs/" + DIGEST))
        .isEqualTo(new ResourceName("a/b/c", "", DIGEST));
    assertThat(ResourceName.parseRead("blobs/sha256/" + DIGEST))
        .isEqualTo(new ResourceName("", "", DIGEST));
  }

  @Test
  void writeNames() {
    assertThat(ResourceName.parseWrite("uploads/u-1/blobs/" + DIGEST))
        .isEqualTo(new ResourceName("", "u-1", DIGEST));
    assertThat(ResourceName.parseWrite("ci/linux/uploads/u-1/blobs/" + DIGEST + "/meta/data"))
        .isEqualTo(new ResourceName("ci/linux", "u-1", DIGEST));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "blobs/%h/5/x",
        "blobs/%H/5",
        "blobs/%h/5.0",
        "blobs/%h/99999999999999999999",
        "blobs/%h/",
        "blobs//5",
        "/blobs/%h/5",
        "x//blobs/%h/5",
        "x/%h/5",
        "x/uploads/u/blobs/%h/5",
        "blobs/%h"
      })
  void malformedReadNames(String template) {
    String name = template.replace("%h", DIGEST.hash()).replace("%H", DIGEST.hash().toUpperCase());
    assertThatThrownBy(() -> ResourceName.parseRead(name))
        .isInstanceOfSatisfying(
            HearthException.class,
            e -> {
              assertThat(e.code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
              assertThat(e.getMessage())
                  .contains("'" + name + "'", "{instance}/blobs/{hash}/{size}");
            });
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "uploads/blobs/%h/5",
        "uploads//blobs/%h/5",
        "uploads/u/%h/5",
        "uploads/u/blobs/%h",
        "uploads/u/blobs/%h/-5",
        "blobs/%h/5",
        "uploads"
      })
  void malformedWriteNames(String template) {
    String name = template.replace("%h", DIGEST.hash());
    assertThatThrownBy(() -> ResourceName.parseWrite(name))
        .isInstanceOfSatisfying(
            HearthException.class,
            e -> {
              assertThat(e.code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
              assertThat(e.getMessage()).contains("'" + name + "'", "/uploads/{uuid}/");
            });
  }

  @Test
  void compressedBlobsAreUnimplemented() {
    assertThatThrownBy(() -> ResourceName.parseWrite("uploads/u/compressed-blobs/zstd/" + DIGEST))
        .isInstanceOfSatisfying(
            HearthException.class,
            e -> {
              assertThat(e.code()).isEqualTo(StatusCode.UNIMPLEMENTED);
              assertThat(e.getMessage()).contains("zstd", "no compression");
            });
  }

  @Test
  void otherDigestFunctionsAreRefused() {
    assertThatThrownBy(() -> ResourceName.parseRead("blobs/blake3/" + DIGEST))
        .isInstanceOfSatisfying(
            HearthException.class,
            e -> assertThat(e.getMessage()).contains("blake3", "sha256 only"));
  }
}
