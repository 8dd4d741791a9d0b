package build.hearth.core.ops;

import build.hearth.core.persistent.ProcessFactory;
import build.hearth.core.persistent.ToolKey;
import build.hearth.core.persistent.ToolProcess;
import build.hearth.proto.worker.WorkRequest;
import build.hearth.proto.worker.WorkResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A {@link ToolProcess} without an operating system process, for the tests that read a real pool's
 * statistics: it answers every request at once with exit code 0 and reports the resident memory a
 * test sets.
 */
final class StubToolProcess implements ToolProcess {
  final long pid;
  final Path directory;
  volatile boolean alive = true;
  volatile OptionalLong residentBytes = OptionalLong.empty();

  StubToolProcess(long pid, Path directory) {
    this.pid = pid;
    this.directory = directory;
  }

  /** Starts stub processes with increasing pids and keeps them, in start order. */
  static final class Factory implements ProcessFactory {
    final AtomicLong nextPid = new AtomicLong(4000);
    final List<StubToolProcess> started = Collections.synchronizedList(new ArrayList<>());

    @Override
    public ToolProcess start(ToolKey key, Path processDirectory) {
      StubToolProcess process = new StubToolProcess(nextPid.incrementAndGet(), processDirectory);
      started.add(process);
      return process;
    }
  }

  @Override
  public long pid() {
    return pid;
  }

  @Override
  public boolean isAlive() {
    return alive;
  }

  @Override
  public CompletableFuture<WorkResponse> send(WorkRequest request) {
    return CompletableFuture.completedFuture(
        WorkResponse.newBuilder().setRequestId(request.getRequestId()).build());
  }

  @Override
  public void cancel(int requestId) {}

  @Override
  public OptionalLong residentBytes() {
    return residentBytes;
  }

  @Override
  public String stderrTail() {
    return "";
  }

  @Override
  public Path logFile() {
    return directory.resolve("stderr.log");
  }

  @Override
  public void shutdown(Duration grace) {
    alive = false;
  }

  @Override
  public void kill() {
    alive = false;
  }
}
