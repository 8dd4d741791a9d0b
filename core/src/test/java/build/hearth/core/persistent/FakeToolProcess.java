package build.hearth.core.persistent;

import build.hearth.proto.worker.WorkRequest;
import build.hearth.proto.worker.WorkResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * A {@link ToolProcess} without an operating system process, for the tests of the pool and of what
 * reads its statistics: it answers each request at once with exit code 0, reports the resident
 * memory a test sets, and dies when told.
 */
public final class FakeToolProcess implements ToolProcess {
  final Factory factory;
  final ToolKey key;
  final Path directory;
  private final long pid;
  private final AtomicBoolean alive = new AtomicBoolean(true);
  private final AtomicInteger requests = new AtomicInteger();
  private volatile OptionalLong residentBytes = OptionalLong.empty();
  private volatile String howItEnded = "";
  volatile boolean directoryExistedAtStart;

  private FakeToolProcess(Factory factory, ToolKey key, Path directory, long pid) {
    this.factory = factory;
    this.key = key;
    this.directory = directory;
    this.pid = pid;
  }

  @Override
  public long pid() {
    return pid;
  }

  @Override
  public boolean isAlive() {
    return alive.get();
  }

  @Override
  public CompletableFuture<WorkResponse> send(WorkRequest request) {
    if (!alive.get()) {
      return CompletableFuture.failedFuture(
          new ToolProcessException(ToolProcessException.Kind.DIED, "it is dead"));
    }
    requests.incrementAndGet();
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
    end("shutdown " + grace.toMillis() + "ms");
  }

  @Override
  public void kill() {
    end("kill");
  }

  /** Makes it look like the process ended on its own, without the pool's doing. */
  void die() {
    if (alive.compareAndSet(true, false)) {
      factory.ended(this);
    }
  }

  public void setResidentBytes(long bytes) {
    residentBytes = OptionalLong.of(bytes);
  }

  /** {@code "shutdown 5000ms"} or {@code "kill"} once the pool ended it, else empty. */
  String howItEnded() {
    return howItEnded;
  }

  int requests() {
    return requests.get();
  }

  private void end(String how) {
    if (howItEnded.isEmpty()) {
      howItEnded = how;
    }
    if (alive.compareAndSet(true, false)) {
      factory.ended(this);
    }
  }

  /**
   * Starts fake processes and counts how many run at once, per key and in all. A test can make the
   * next starts fail, or hold them until it lets them go.
   */
  public static final class Factory implements ProcessFactory {
    private final AtomicLong nextPid = new AtomicLong(1000);
    private final List<FakeToolProcess> started = new ArrayList<>();
    private final Map<String, AtomicInteger> runningByKey = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> maxRunningByKey = new ConcurrentHashMap<>();
    private final AtomicInteger running = new AtomicInteger();
    private final AtomicInteger maxRunning = new AtomicInteger();
    private volatile Function<ToolKey, RuntimeException> failure;
    private volatile CountDownLatch gate;
    private final AtomicInteger waitingAtGate = new AtomicInteger();

    @Override
    public ToolProcess start(ToolKey key, Path processDirectory) {
      CountDownLatch held = gate;
      if (held != null) {
        waitingAtGate.incrementAndGet();
        try {
          if (!held.await(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException("the test never opened the gate");
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException(e);
        } finally {
          waitingAtGate.decrementAndGet();
        }
      }
      Function<ToolKey, RuntimeException> failing = failure;
      if (failing != null) {
        RuntimeException error = failing.apply(key);
        if (error != null) {
          throw error;
        }
      }
      FakeToolProcess process =
          new FakeToolProcess(this, key, processDirectory, nextPid.incrementAndGet());
      process.directoryExistedAtStart = Files.isDirectory(processDirectory);
      String fingerprint = key.fingerprint();
      int now =
          runningByKey.computeIfAbsent(fingerprint, k -> new AtomicInteger()).incrementAndGet();
      maxRunningByKey
          .computeIfAbsent(fingerprint, k -> new AtomicInteger())
          .accumulateAndGet(now, Math::max);
      maxRunning.accumulateAndGet(running.incrementAndGet(), Math::max);
      synchronized (started) {
        started.add(process);
      }
      return process;
    }

    private void ended(FakeToolProcess process) {
      runningByKey.get(process.key.fingerprint()).decrementAndGet();
      running.decrementAndGet();
    }

    /** Makes starts fail with what {@code failure} returns for their key (null: start it). */
    void failWith(Function<ToolKey, RuntimeException> failure) {
      this.failure = failure;
    }

    /** Holds every start until {@link #openGate()}. */
    void closeGate() {
      gate = new CountDownLatch(1);
    }

    void openGate() {
      CountDownLatch held = gate;
      gate = null;
      if (held != null) {
        held.countDown();
      }
    }

    int waitingAtGate() {
      return waitingAtGate.get();
    }

    public List<FakeToolProcess> started() {
      synchronized (started) {
        return List.copyOf(started);
      }
    }

    FakeToolProcess last() {
      List<FakeToolProcess> all = started();
      return all.get(all.size() - 1);
    }

    int running() {
      return running.get();
    }

    int maxRunning() {
      return maxRunning.get();
    }

    int running(ToolKey key) {
      AtomicInteger count = runningByKey.get(key.fingerprint());
      return count == null ? 0 : count.get();
    }

    int maxRunning(ToolKey key) {
      AtomicInteger count = maxRunningByKey.get(key.fingerprint());
      return count == null ? 0 : count.get();
    }
  }
}
