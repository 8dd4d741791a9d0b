package build.hearth.examples.javac;

import build.hearth.proto.worker.WorkRequest;
import build.hearth.proto.worker.WorkResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/** The protobuf encoding: each message preceded by its length as a varint32. */
final class ProtoChannel implements WorkerChannel {
  private final InputStream in;
  private final OutputStream out;

  ProtoChannel(InputStream in, OutputStream out) {
    this.in = in;
    this.out = out;
  }

  @Override
  public WorkRequest read() throws IOException {
    return WorkRequest.parseDelimitedFrom(in);
  }

  @Override
  public void write(WorkResponse response) throws IOException {
    response.writeDelimitedTo(out);
    out.flush();
  }
}
