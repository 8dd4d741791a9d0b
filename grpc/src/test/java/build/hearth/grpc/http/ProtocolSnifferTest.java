package build.hearth.grpc.http;

import static org.assertj.core.api.Assertions.assertThat;

import build.hearth.grpc.http.ProtocolSniffer.Protocol;
import io.grpc.netty.shaded.io.netty.buffer.ByteBuf;
import io.grpc.netty.shaded.io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ProtocolSnifferTest {

  private static Protocol classify(String firstBytes) {
    ByteBuf in = Unpooled.copiedBuffer(firstBytes, StandardCharsets.ISO_8859_1);
    try {
      Protocol protocol = ProtocolSniffer.classify(in);
      assertThat(in.readerIndex()).as("classifying consumes nothing").isZero();
      return protocol;
    } finally {
      in.release();
    }
  }

  @Test
  void theHttp2PrefaceIsGrpcAfterTwoBytes() {
    assertThat(classify("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")).isEqualTo(Protocol.GRPC);
    assertThat(classify("PR")).isEqualTo(Protocol.GRPC);
    assertThat(classify("P")).as("POST, PUT and PATCH start so too").isEqualTo(Protocol.UNDECIDED);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "GET /metrics HTTP/1.1\r\n",
        "HEAD / HTTP/1.0\r\n",
        "POST /x HTTP/1.1\r\n",
        "PUT ",
        "DELETE ",
        "OPTIONS * HTTP/1.1",
        "PATCH ",
        "TRACE ",
        "CONNECT host:443 HTTP/1.1"
      })
  void aMethodAndASpaceIsHttp1(String firstBytes) {
    assertThat(classify(firstBytes)).isEqualTo(Protocol.HTTP1);
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "G", "GE", "GET", "HEA", "OPTIONS", "CONNEC"})
  void aPrefixOfARequestLineWaitsForMore(String firstBytes) {
    assertThat(classify(firstBytes)).isEqualTo(Protocol.UNDECIDED);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "HELLO",
        "GETX",
        "get /metrics HTTP/1.1",
        "\u0000\u0000\u0012\u0004",
        "\r\n",
        " GET"
      })
  void anythingElseGoesToGrpc(String firstBytes) {
    assertThat(classify(firstBytes)).isEqualTo(Protocol.GRPC);
  }
}
