package build.hearth.examples.javac;

import static org.assertj.core.api.Assertions.assertThat;

import build.hearth.proto.worker.WorkRequest;
import build.hearth.proto.worker.WorkResponse;
import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.nio.channels.Pipe;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The persistent worker's {@link Main#run} on a thread of the test JVM, speaking protobuf through
 * two OS pipes (not {@code PipedInputStream}, which fails once the thread that last wrote ends).
 * The test plays the client: it sends requests and reads responses in the worker's order.
 */
final class InProcessWorker implements AutoCloseable {
  private final OutputStream toWorker;
  private final InputStream fromWorker;
  private final CountingInputStream workerInput;
  private final ByteArrayOutputStream stderr = new ByteArrayOutputStream();
  private final CompletableFuture<Integer> status = new CompletableFuture<>();
  private long bytesSent;

  InProcessWorker(int threads, Javac.Observer observer) {
    try {
      Pipe requests = Pipe.open();
      Pipe responses = Pipe.open();
      toWorker = Channels.newOutputStream(requests.sink());
      fromWorker = Channels.newInputStream(responses.source());
      workerInput = new CountingInputStream(Channels.newInputStream(requests.source()));
      OutputStream workerOutput = Channels.newOutputStream(responses.sink());
      PrintStream log = new PrintStream(stderr, true, StandardCharsets.UTF_8);
      Thread thread =
          new Thread(
              () -> {
                try {
                  status.complete(
                      Main.run(
                          List.of("--persistent_worker"),
                          workerInput,
                          workerOutput,
                          log,
                          threads,
                          () -> new Javac(observer)));
                  workerOutput.close();
                } catch (Throwable e) {
                  status.completeExceptionally(e);
                }
              },
              "in-process-worker");
      thread.setDaemon(true);
      thread.start();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  void send(WorkRequest request) {
    try {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      request.writeDelimitedTo(bytes);
      bytes.writeTo(toWorker);
      toWorker.flush();
      bytesSent += bytes.size();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Everything sent so far, in bytes; compare with {@link #bytesReadByWorker()}. */
  long bytesSent() {
    return bytesSent;
  }

  /** How far the worker has read its input. */
  long bytesReadByWorker() {
    return workerInput.count.get();
  }

  /** The next response; the test's timeout guards against one that never comes. */
  WorkResponse receive() {
    try {
      WorkResponse response = WorkResponse.parseDelimitedFrom(fromWorker);
      assertThat(response).as("a response; the worker's stderr: %s", stderr()).isNotNull();
      return response;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  String stderr() {
    return stderr.toString(StandardCharsets.UTF_8);
  }

  /** Ends the input and returns the worker's exit status once it has answered everything. */
  int finish() {
    try {
      toWorker.close();
      return status.get(30, TimeUnit.SECONDS);
    } catch (IOException | ExecutionException | TimeoutException e) {
      throw new AssertionError("the worker did not end cleanly; stderr: " + stderr(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  @Override
  public void close() {
    try {
      toWorker.close();
    } catch (IOException e) {
      // already closed by finish()
    }
  }

  private static final class CountingInputStream extends FilterInputStream {
    final AtomicLong count = new AtomicLong();

    CountingInputStream(InputStream in) {
      super(in);
    }

    @Override
    public int read() throws IOException {
      int b = super.read();
      if (b >= 0) {
        count.incrementAndGet();
      }
      return b;
    }

    @Override
    public int read(byte[] buffer, int offset, int length) throws IOException {
      int n = super.read(buffer, offset, length);
      if (n > 0) {
        count.addAndGet(n);
      }
      return n;
    }
  }
}
