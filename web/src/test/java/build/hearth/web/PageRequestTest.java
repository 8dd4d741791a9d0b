package build.hearth.web;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import build.hearth.api.Digest;
import com.google.protobuf.ByteString;
import org.junit.jupiter.api.Test;

class PageRequestTest {
  private static final Digest DIGEST = Digest.of(ByteString.copyFromUtf8("x"));

  @Test
  void aPageAddressParsesToItsKindDigestAndInstance() {
    PageRequest request =
        PageRequest.parse(
            "/ui/action/" + DIGEST.hash() + "/" + DIGEST.sizeBytes(), "instance=team%2Fa%20b");

    assertThat(request.kind()).isEqualTo("action");
    assertThat(request.digest()).contains(DIGEST);
    assertThat(request.instance()).isEqualTo("team/a b");
  }

  @Test
  void linksParseBackToWhatTheyName() {
    String link = ActionLinks.of("").action("<team>&x=1", DIGEST);
    int q = link.indexOf('?');
    PageRequest request = PageRequest.parse(link.substring(0, q), link.substring(q + 1));

    assertThat(request.instance()).isEqualTo("<team>&x=1");
    assertThat(request.digest()).contains(DIGEST);
  }

  @Test
  void hostileAddressesAreRefusedWithTheReason() {
    String hash = DIGEST.hash();
    assertThatThrownBy(() -> PageRequest.parse("/ui/action/" + hash.toUpperCase() + "/1", ""))
        .hasMessageContaining("is not a SHA-256 hash");
    assertThatThrownBy(() -> PageRequest.parse("/ui/action/" + hash + "/-1", ""))
        .isInstanceOf(PageRequest.BadRequest.class);
    assertThatThrownBy(() -> PageRequest.parse("/ui/action/" + hash + "/1/extra", ""))
        .hasMessageContaining("/ui/<kind>/<hash>/<size>");
    assertThatThrownBy(() -> PageRequest.parse("/ui/action/" + hash + "/1", "instance=%zz"))
        .hasMessageContaining("two hex digits");
    assertThatThrownBy(() -> PageRequest.parse("/ui/action/" + hash + "/1", "instance=%ff"))
        .hasMessageContaining("not UTF-8");
    assertThatThrownBy(() -> PageRequest.parse("/ui/action/" + hash + "/1", "x=1"))
        .hasMessageContaining("unknown query parameter 'x'");
    assertThatThrownBy(
            () -> PageRequest.parse("/ui/action/" + hash + "/1", "instance=a&instance=b"))
        .hasMessageContaining("given twice");
    assertThatThrownBy(() -> PageRequest.parse("/ui/", "instance=" + "a".repeat(5000)))
        .hasMessageContaining("longer than");
  }

  @Test
  void anExternalBaseUrlMustBeHttpWithAHost() {
    assertThat(ActionLinks.of("https://hearth.example.com/").action("", DIGEST))
        .isEqualTo(
            "https://hearth.example.com/ui/action/" + DIGEST.hash() + "/" + DIGEST.sizeBytes());
    assertThatThrownBy(() -> ActionLinks.of("javascript:alert(1)"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> ActionLinks.of("https://h.example.com/?q=1"))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
