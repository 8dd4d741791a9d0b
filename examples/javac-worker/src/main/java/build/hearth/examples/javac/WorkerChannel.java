package build.hearth.examples.javac;

import build.hearth.proto.worker.WorkRequest;
import build.hearth.proto.worker.WorkResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * The worker's side of the worker protocol: requests in on stdin, responses out on stdout, in one
 * of the two encodings Bazel knows.
 *
 * <p>{@link #read} is called by one thread only; {@link #write} must be called under one lock,
 * which the caller holds, so that responses of concurrent requests never interleave.
 */
interface WorkerChannel {
  /**
   * The next request, blocking until it arrives, or null once the input has ended.
   *
   * @throws IOException when the input is not a well-formed request in this encoding
   */
  WorkRequest read() throws IOException;

  /** Writes and flushes one response. */
  void write(WorkResponse response) throws IOException;

  /** The channel for {@code protocol}, {@code proto} or {@code json}. */
  static WorkerChannel of(String protocol, InputStream in, OutputStream out) {
    return switch (protocol) {
      case "proto" -> new ProtoChannel(in, out);
      case "json" -> new JsonChannel(in, out);
      default -> throw new IllegalArgumentException("unknown protocol " + protocol);
    };
  }
}
