package build.hearth.agent;

import build.hearth.api.BlobUpload;
import build.hearth.api.Digest;
import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import com.google.bytestream.ByteStreamGrpc;
import com.google.bytestream.ByteStreamProto.WriteRequest;
import com.google.bytestream.ByteStreamProto.WriteResponse;
import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A {@link BlobUpload} that streams to a remote CAS with one ByteStream Write: bytes go out in
 * chunks as they are written, each sent only when the call is ready for more, so a slow server
 * slows the writer down instead of filling memory.
 *
 * <p>The bytes are also hashed here, and {@link #commit()} refuses, before sending finish_write,
 * bytes that do not match the digest: the server would refuse them too, but only after the whole
 * upload, and with a message that cannot say the local copy was bad.
 *
 * <p>The call starts with the first chunk. A server that already holds the blob may answer at once;
 * later chunks are then not sent. Not thread-safe, as {@link BlobUpload} allows; the lock only
 * coordinates the writer with gRPC's callbacks and is never held while sending.
 */
final class RemoteUpload implements BlobUpload {
  private final ByteStreamGrpc.ByteStreamStub stub;
  private final String resourceName;
  private final Digest digest;
  private final int chunkBytes;
  private final Duration timeout;
  private final String what;
  private final MessageDigest sha = Digest.newMessageDigest();

  private byte[] buffer;
  private int buffered;
  private long written;

  /** Where the next chunk starts: the bytes sent, or skipped because the server had answered. */
  private long offset;

  private boolean committed;
  private boolean closed;
  private ClientCallStreamObserver<WriteRequest> requests;

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  private WriteResponse response; // guarded by lock
  private Throwable failure; // guarded by lock

  RemoteUpload(
      ByteStreamGrpc.ByteStreamStub stub,
      String resourceName,
      Digest digest,
      int chunkBytes,
      Duration timeout,
      String what) {
    this.stub = stub;
    this.resourceName = resourceName;
    this.digest = digest;
    this.chunkBytes = chunkBytes;
    this.timeout = timeout;
    this.what = what;
  }

  @Override
  public Digest digest() {
    return digest;
  }

  @Override
  public long committedSize() {
    return written;
  }

  @Override
  public boolean isComplete() {
    if (committed) {
      return true;
    }
    lock.lock();
    try {
      return response != null && response.getCommittedSize() == digest.sizeBytes();
    } finally {
      lock.unlock();
    }
  }

  @Override
  public void write(byte[] data, int offset, int length) {
    Objects.checkFromIndexSize(offset, length, data.length);
    accept(length);
    sha.update(data, offset, length);
    while (length > 0) {
      int n = Math.min(length, bufferSpace());
      System.arraycopy(data, offset, buffer, buffered, n);
      buffered += n;
      offset += n;
      length -= n;
      flushIfFull();
    }
  }

  @Override
  public void write(ByteString data) {
    accept(data.size());
    for (ByteBuffer piece : data.asReadOnlyByteBufferList()) {
      sha.update(piece.duplicate());
    }
    int offset = 0;
    while (offset < data.size()) {
      int remaining = data.size() - offset;
      if (buffered == 0 && remaining >= chunkBytes) {
        // Whole chunks of a ByteString go out as substrings, which share its bytes.
        send(data.substring(offset, offset + chunkBytes), false);
        offset += chunkBytes;
        continue;
      }
      int n = Math.min(remaining, bufferSpace());
      data.substring(offset, offset + n).copyTo(buffer, buffered);
      buffered += n;
      offset += n;
      flushIfFull();
    }
  }

  @Override
  public void commit() {
    checkOpen();
    if (written != digest.sizeBytes()) {
      close();
      throw HearthException.invalidArgument(
          "upload of %s ended after %d of its %d bytes", digest, written, digest.sizeBytes());
    }
    String hash = HexFormat.of().formatHex(sha.digest());
    if (!hash.equals(digest.hash())) {
      close();
      throw HearthException.invalidArgument(
          "the %d bytes written for %s hash to %s; the local copy they were read from does not"
              + " match its digest, so the upload was abandoned",
          written, digest, hash);
    }
    if (digest.isEmpty()) {
      committed = true; // every CAS holds the empty blob
      return;
    }
    ByteString last =
        buffered == 0 ? ByteString.EMPTY : UnsafeByteOperations.unsafeWrap(buffer, 0, buffered);
    buffer = null;
    buffered = 0;
    send(last, true);
    WriteResponse answer = awaitResponse();
    if (answer.getCommittedSize() != digest.sizeBytes()) {
      close();
      throw new HearthException(
          StatusCode.DATA_LOSS,
          what
              + ": the server committed "
              + answer.getCommittedSize()
              + " bytes of "
              + digest
              + " instead of "
              + digest.sizeBytes());
    }
    committed = true;
    closed = true;
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    buffer = null;
    if (requests != null && !committed && !isComplete()) {
      requests.cancel("upload abandoned by the client", null);
    }
  }

  private void accept(int length) {
    checkOpen();
    if (written + length > digest.sizeBytes()) {
      throw HearthException.invalidArgument(
          "writing %d more bytes to the upload of %s would make %d, more than its size",
          length, digest, written + length);
    }
    written += length;
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("the upload of " + digest + " is closed");
    }
  }

  private int bufferSpace() {
    if (buffer == null) {
      buffer = new byte[(int) Math.min(chunkBytes, Math.max(1, digest.sizeBytes()))];
    }
    return buffer.length - buffered;
  }

  private void flushIfFull() {
    // The chunk that ends the blob waits for commit(), which sends it with finish_write.
    if (buffered == buffer.length && offset + buffered < digest.sizeBytes()) {
      // gRPC serializes a message after onNext returns, so each chunk gets a fresh array.
      send(UnsafeByteOperations.unsafeWrap(buffer, 0, buffered), false);
      buffer = null;
      buffered = 0;
    }
  }

  /** Sends one chunk once the call can take it; skipped if the server has already answered. */
  private void send(ByteString data, boolean finish) {
    if (requests == null) {
      start();
    }
    if (!awaitReady()) {
      offset += data.size();
      return;
    }
    WriteRequest.Builder request =
        WriteRequest.newBuilder().setWriteOffset(offset).setData(data).setFinishWrite(finish);
    if (offset == 0) {
      request.setResourceName(resourceName);
    }
    offset += data.size();
    requests.onNext(request.build());
    if (finish) {
      requests.onCompleted();
    }
  }

  private void start() {
    stub.write(
        new ClientResponseObserver<WriteRequest, WriteResponse>() {
          @Override
          public void beforeStart(ClientCallStreamObserver<WriteRequest> call) {
            requests = call;
            call.setOnReadyHandler(RemoteUpload.this::signal);
          }

          @Override
          public void onNext(WriteResponse value) {
            lock.lock();
            try {
              response = value;
              changed.signalAll();
            } finally {
              lock.unlock();
            }
          }

          @Override
          public void onError(Throwable t) {
            lock.lock();
            try {
              failure = t;
              changed.signalAll();
            } finally {
              lock.unlock();
            }
          }

          @Override
          public void onCompleted() {
            lock.lock();
            try {
              if (response == null) {
                failure =
                    new HearthException(
                        StatusCode.INTERNAL,
                        what + ": the server ended the write without an answer");
              }
              changed.signalAll();
            } finally {
              lock.unlock();
            }
          }
        });
  }

  private void signal() {
    lock.lock();
    try {
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /**
   * Waits until the call takes another message.
   *
   * @return false if the server has already answered (it holds the blob), so nothing more is sent
   */
  private boolean awaitReady() {
    return await(false, "take more data") == null;
  }

  private WriteResponse awaitResponse() {
    return await(true, "confirm the upload");
  }

  /**
   * Waits for the server's answer, or (unless {@code answerOnly}) for the call to become ready.
   * Returns the answer, or null when the call is ready. Failing happens after the lock is released,
   * since cancelling the call runs gRPC code.
   */
  private WriteResponse await(boolean answerOnly, String step) {
    long deadline = System.nanoTime() + timeout.toNanos();
    Throwable failed;
    boolean interrupted = false;
    lock.lock();
    try {
      while (true) {
        if (failure != null) {
          failed = failure;
          break;
        }
        if (response != null) {
          return response;
        }
        if (!answerOnly && requests.isReady()) {
          return null;
        }
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          failed = null;
          break;
        }
        try {
          changed.await(left, TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
          interrupted = true;
          failed = e;
          break;
        }
      }
    } finally {
      lock.unlock();
    }
    closed = true;
    buffer = null;
    if (interrupted) {
      Thread.currentThread().interrupt();
      requests.cancel("interrupted", failed);
      throw new HearthException(StatusCode.CANCELLED, what + ": interrupted", failed);
    }
    if (failed == null) {
      requests.cancel("upload stalled", null);
      throw new HearthException(
          StatusCode.DEADLINE_EXCEEDED,
          what
              + ": the server did not "
              + step
              + " within "
              + timeout
              + "; the upload was cancelled");
    }
    throw RemoteErrors.toHearth(failed, what);
  }
}
