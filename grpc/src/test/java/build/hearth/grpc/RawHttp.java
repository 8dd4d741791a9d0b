package build.hearth.grpc;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * One TCP connection that speaks HTTP/1.x by hand, so tests control exactly which requests share a
 * connection and can send what no HTTP client would.
 */
final class RawHttp implements AutoCloseable {
  /** How long a read may wait before the test fails instead of hanging. */
  private static final int READ_TIMEOUT_MILLIS = 20_000;

  private final Socket socket;
  private final InputStream in;
  private final OutputStream out;

  RawHttp(int port) throws IOException {
    socket = new Socket(InetAddress.getLoopbackAddress(), port);
    socket.setSoTimeout(READ_TIMEOUT_MILLIS);
    in = socket.getInputStream();
    out = socket.getOutputStream();
  }

  /** A response as read off the wire; header names in lower case. */
  record Response(String statusLine, Map<String, String> headers, String body) {
    int status() {
      return Integer.parseInt(statusLine.split(" ")[1]);
    }
  }

  void send(String text) throws IOException {
    out.write(text.getBytes(StandardCharsets.ISO_8859_1));
    out.flush();
  }

  static String get(String path, String... extraHeaderLines) {
    StringBuilder request = new StringBuilder("GET " + path + " HTTP/1.1\r\nHost: localhost\r\n");
    for (String line : extraHeaderLines) {
      request.append(line).append("\r\n");
    }
    return request.append("\r\n").toString();
  }

  /**
   * Reads one response; a {@code HEAD} response's body is not read whatever its length says.
   *
   * @param headRequest whether the request was a {@code HEAD}
   */
  Response read(boolean headRequest) throws IOException {
    String statusLine = line();
    Map<String, String> headers = new LinkedHashMap<>();
    for (String line = line(); !line.isEmpty(); line = line()) {
      int colon = line.indexOf(':');
      headers.put(
          line.substring(0, colon).trim().toLowerCase(Locale.ROOT),
          line.substring(colon + 1).trim());
    }
    int length = headRequest ? 0 : Integer.parseInt(headers.getOrDefault("content-length", "0"));
    byte[] body = in.readNBytes(length);
    if (body.length < length) {
      throw new IOException("connection closed after " + body.length + " of " + length + " bytes");
    }
    return new Response(statusLine, headers, new String(body, StandardCharsets.UTF_8));
  }

  Response read() throws IOException {
    return read(false);
  }

  /** Whether the server has closed the connection: reads and discards until the end. */
  boolean closedByServer() throws IOException {
    try {
      while (in.read() >= 0) {
        // What gRPC says before closing (its SETTINGS and GOAWAY frames) does not matter here.
      }
      return true;
    } catch (java.net.SocketException e) {
      return true; // reset rather than closed in order; closed all the same
    }
  }

  private String line() throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    int previous = -1;
    for (int b = in.read(); ; b = in.read()) {
      if (b < 0) {
        throw new IOException("connection closed in the middle of a response: " + line);
      }
      if (previous == '\r' && b == '\n') {
        byte[] bytes = line.toByteArray();
        return new String(bytes, 0, bytes.length - 1, StandardCharsets.ISO_8859_1);
      }
      line.write(b);
      previous = b;
    }
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
