package build.hearth.api;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import org.junit.jupiter.api.Test;

class DigestTest {
  @Test
  void aByteStringHashesLikeItsBytes() {
    Digest digest = Digest.of(ByteString.copyFromUtf8("hello"));

    assertThat(digest).isEqualTo(Digest.of("hello".getBytes(UTF_8)));
    assertThat(digest.toString())
        .isEqualTo("2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824/5");
  }

  @Test
  void aByteStringOfManyPiecesHashesLikeTheirConcatenation() {
    ByteString rope = ByteString.EMPTY;
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < 100; i++) {
      String piece = "piece " + i + " of a rope; ";
      rope = rope.concat(ByteString.copyFromUtf8(piece));
      text.append(piece);
    }
    assertThat(rope.asReadOnlyByteBufferList()).hasSizeGreaterThan(1);

    assertThat(Digest.of(rope)).isEqualTo(Digest.of(text.toString().getBytes(UTF_8)));
  }

  @Test
  void theEmptyByteStringIsTheEmptyBlob() {
    assertThat(Digest.of(ByteString.EMPTY)).isEqualTo(Digest.EMPTY);
  }

  @Test
  void parsingAResourceNameSaysToPassOnlyHashAndSize() {
    String hash = Digest.of("hello".getBytes(java.nio.charset.StandardCharsets.UTF_8)).hash();
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> Digest.parse("blobs/" + hash + "/5"))
        .isInstanceOf(HearthException.class)
        .hasMessageContaining("it has more than one '/'")
        .hasMessageContaining("pass only its last two segments");
    org.assertj.core.api.Assertions.assertThat(Digest.parse(hash + "/5").sizeBytes()).isEqualTo(5);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> Digest.parse(hash + "/five"))
        .hasMessageContaining(
            "is not a digest of the form hash/size: 'five' is not a valid blob" + " size");
  }
}
