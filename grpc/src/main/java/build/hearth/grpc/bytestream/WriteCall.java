package build.hearth.grpc.bytestream;

import build.hearth.api.ContentAddressableStorage;
import build.hearth.api.Digest;
import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import build.hearth.grpc.common.Instances;
import build.hearth.grpc.common.Rpc;
import com.google.bytestream.ByteStreamProto.WriteRequest;
import com.google.bytestream.ByteStreamProto.WriteResponse;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One ByteStream Write stream.
 *
 * <p>Bytes go to the session's verifying upload synchronously in {@link #onNext}, which then hands
 * the request's receive buffers back to the transport: a request's bytes are never kept. gRPC
 * delivers the next message only when that returns, so a slow store slows the client instead of
 * filling memory. What happens to the session when the stream ends:
 *
 * <ul>
 *   <li>finished and verified: the blob is in the CAS and the session ends;
 *   <li>too many bytes, too few at finish_write, or a wrong hash: INVALID_ARGUMENT and the upload
 *       is discarded, so nothing of it is ever readable;
 *   <li>the client cancels or the connection breaks, a write_offset that does not match, or the
 *       stream ends without finish_write: the session is kept with its committed size, for
 *       QueryWriteStatus and a resuming Write.
 * </ul>
 *
 * <p>If the blob is already in the CAS when the stream starts, the write completes at once with
 * {@code committed_size} equal to the blob's size, and the rest of the stream is ignored.
 *
 * <p>A stream that sends nothing for {@code limits.uploadStallTimeout} is ended by the sessions'
 * sweep with DEADLINE_EXCEEDED (the client's own deadline did not end it, the server's did; Bazel
 * retries that status and resumes from QueryWriteStatus) and the session is detached from it, kept
 * for resumption. DEADLINE_EXCEEDED rather than ABORTED, which here means "another stream holds
 * this upload", or CANCELLED, which says the client gave up.
 *
 * <p>gRPC delivers one stream's callbacks one at a time; only the end of the response is also
 * reached from the sweep's thread ({@link #stalled}), so the response is ended under this object's
 * monitor, which is never held while bytes are written.
 */
final class WriteCall implements StreamObserver<InboundWrite>, UploadSessions.Writer {
  private static final Logger log = LoggerFactory.getLogger(WriteCall.class);

  private final Instances instances;
  private final UploadSessions sessions;

  private final ServerCallStreamObserver<WriteResponse> out;
  private final String client;
  private final WriteLookahead lookahead;
  private String resourceName;
  private UploadSessions.Session session;
  private volatile boolean done;

  /**
   * A Write of {@code client}.
   *
   * @param client what the upload counts against (see {@link UploadClient})
   */
  WriteCall(
      Instances instances,
      UploadSessions sessions,
      ServerCallStreamObserver<WriteResponse> out,
      String client,
      WriteLookaheads lookaheads) {
    this.instances = instances;
    this.sessions = sessions;
    this.out = out;
    this.client = client;
    this.lookahead = lookaheads.open(out);
  }

  /**
   * Turns off gRPC's requests after each message; this call asks for messages ahead, within its
   * byte budget ({@link WriteLookahead}), starting with one.
   */
  void start() {
    out.disableAutoRequest();
    lookahead.start();
    out.request(1);
  }

  @Override
  public void onNext(InboundWrite received) {
    if (!lookahead.tracked() && lookahead.deframed(received.request().getSerializedSize())) {
      out.request(1);
    }
    try (received) {
      if (received.malformed() != null) {
        if (!done) {
          fail(
              HearthException.invalidArgument(
                  "a WriteRequest is not a valid protobuf message (%s); the upload so far is"
                      + " kept for resumption",
                  received.malformed()),
              false);
        }
        return;
      }
      process(received.request());
    } finally {
      if (done) {
        lookahead.end();
      } else if (lookahead.processed()) {
        out.request(1);
      }
    }
  }

  private void process(WriteRequest request) {
    if (done) {
      return;
    }
    try {
      if (resourceName == null) {
        start(request);
        if (done) {
          return;
        }
      } else if (!request.getResourceName().isEmpty()
          && !request.getResourceName().equals(resourceName)) {
        throw HearthException.invalidArgument(
            "resource_name changed within one Write stream, from '%s' to '%s'",
            Instances.abbreviate(resourceName), Instances.abbreviate(request.getResourceName()));
      }
      checkOffset(request.getWriteOffset());
    } catch (RuntimeException e) {
      fail(e, false);
      return;
    }
    if (!sessions.beginWrite(session, this)) {
      return; // ended as stalled by the sweep, which answered the client
    }
    try {
      append(request);
    } catch (RuntimeException e) {
      fail(e, true);
    } finally {
      sessions.endWrite(session);
    }
  }

  private void start(WriteRequest request) {
    String name = request.getResourceName();
    if (name.isEmpty()) {
      throw HearthException.invalidArgument(
          "the first WriteRequest of a stream must carry resource_name"
              + " '{instance}/uploads/{uuid}/blobs/{hash}/{size}'");
    }
    ResourceName parsed = ResourceName.parseWrite(name);
    ContentAddressableStorage cas = instances.require(parsed.instance()).cas();
    Digest digest = parsed.digest();
    resourceName = name;
    if (cas.contains(digest)) {
      sessions.discardIfIdle(name);
      log.debug("Write of {} completed early: the blob is already present", digest);
      respond(digest.sizeBytes());
      return;
    }
    session = sessions.attach(name, client, this, () -> cas.startUpload(digest));
  }

  private void checkOffset(long offset) {
    long committed = session.committedSize();
    if (offset != committed) {
      throw HearthException.invalidArgument(
          "write_offset %d of '%s' does not match the %d bytes committed so far; call"
              + " QueryWriteStatus and resume from committed_size",
          offset, Instances.abbreviate(resourceName), committed);
    }
  }

  private void append(WriteRequest request) {
    Digest digest = session.digest();
    long size = digest.sizeBytes();
    if (!request.getData().isEmpty()) {
      long received = session.committedSize() + request.getData().size();
      if (received > size) {
        throw HearthException.invalidArgument(
            "blob %s: received at least %d bytes but its size is %d; the upload was discarded",
            digest, received, size);
      }
      session.upload().write(request.getData());
      session.wrote();
    }
    if (request.getFinishWrite()) {
      finish();
    }
  }

  private void finish() {
    Digest digest = session.digest();
    long committed = session.committedSize();
    if (committed != digest.sizeBytes()) {
      throw HearthException.invalidArgument(
          "blob %s: finish_write after receiving %d of %d bytes; the upload was discarded",
          digest, committed, digest.sizeBytes());
    }
    session.upload().commit();
    sessions.discard(session);
    respond(digest.sizeBytes());
  }

  private void respond(long committedSize) {
    synchronized (this) {
      if (done) {
        return;
      }
      done = true;
      out.onNext(WriteResponse.newBuilder().setCommittedSize(committedSize).build());
      out.onCompleted();
    }
  }

  @Override
  public void stalled(Duration timeout) {
    synchronized (this) {
      if (done) {
        return;
      }
      done = true;
      out.onError(
          Rpc.toException(
              new HearthException(
                  StatusCode.DEADLINE_EXCEEDED,
                  String.format(
                      "the Write stream of '%s' sent nothing for %s (limits.uploadStallTimeout is"
                          + " %s) and was ended; the %d bytes received are kept for"
                          + " limits.uploadIdleTimeout: call QueryWriteStatus and resume",
                      Instances.abbreviate(resourceName),
                      timeout,
                      timeout,
                      session.committedSize()))));
    }
  }

  /**
   * Ends the stream with the status of {@code failure}. With {@code discard} the upload is dropped,
   * because its bytes are wrong or its state unknown; otherwise it stays resumable.
   */
  private void fail(RuntimeException failure, boolean discard) {
    if (session != null) {
      if (discard) {
        sessions.discard(session);
      } else {
        sessions.release(session, this);
      }
    }
    synchronized (this) {
      if (done) {
        return;
      }
      done = true;
      out.onError(Rpc.toException(failure));
    }
  }

  @Override
  public void onError(Throwable t) {
    lookahead.end();
    if (done) {
      return;
    }
    done = true;
    if (session != null) {
      log.debug(
          "Write of '{}' broke off after {} bytes ({}); kept for resumption",
          resourceName,
          session.committedSize(),
          t.toString());
      sessions.release(session, this);
    }
  }

  @Override
  public void onCompleted() {
    lookahead.end();
    if (done) {
      return;
    }
    if (session == null) {
      fail(
          HearthException.invalidArgument("the Write stream ended without any WriteRequest"),
          false);
      return;
    }
    long committed = session.committedSize();
    long size = session.digest().sizeBytes();
    if (committed == size) {
      // The client forgot finish_write but sent every byte: verifying now is what it meant.
      if (!sessions.beginWrite(session, this)) {
        return; // ended as stalled by the sweep meanwhile, which answered the client
      }
      try {
        finish();
      } catch (RuntimeException e) {
        fail(e, true);
      } finally {
        sessions.endWrite(session);
      }
      return;
    }
    fail(
        HearthException.invalidArgument(
            "the Write stream of '%s' ended without finish_write after %d of %d bytes; resume"
                + " with write_offset %d",
            Instances.abbreviate(resourceName), committed, size, committed),
        false);
  }
}
