package build.hearth.examples.javac;

import build.hearth.proto.worker.Input;
import build.hearth.proto.worker.WorkRequest;
import build.hearth.proto.worker.WorkResponse;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The persistent-worker loop: reads requests until the input ends, compiles each on a bounded
 * thread pool, and writes exactly one response per request.
 *
 * <p>Singleplex clients (request id 0) send one request at a time, so the pool never runs more than
 * one of theirs; multiplex clients (unique non-zero ids) get up to {@code threads} compilations at
 * once, the rest queued. Requests run on the pool even when singleplex so that the reading thread
 * stays free to take a cancel for the request in flight.
 *
 * <p>A cancel ({@code cancel=true}) for a request in flight or queued sets that request's flag: a
 * running compilation stops at the compiler's next event, a queued one never starts, and both are
 * answered with {@code was_cancelled=true} and no jar. A cancel for an unknown or finished id is
 * ignored: its request has had, or will get, its one response.
 *
 * <p>Not reusable: {@link #serve} runs once.
 */
final class WorkerServer {
  private final WorkerChannel channel;
  private final Javac javac;
  private final PrintStream log;
  private final ExecutorService pool;
  private final Map<Integer, InFlight> inFlight = new ConcurrentHashMap<>();
  private final Object writeLock = new Object();

  WorkerServer(WorkerChannel channel, Javac javac, int threads, PrintStream log) {
    this.channel = channel;
    this.javac = javac;
    this.log = log;
    this.pool = Executors.newFixedThreadPool(threads, new CompileThreads());
  }

  /**
   * Serves until the input ends, then waits for the requests in flight to be answered.
   *
   * @throws IOException when the input is not a request in the channel's encoding; requests in
   *     flight are still answered first
   */
  void serve() throws IOException {
    try {
      WorkRequest request;
      while ((request = channel.read()) != null) {
        accept(request);
      }
    } finally {
      pool.shutdown();
      try {
        // Each compilation ends by itself; the client is waiting for these answers.
        while (!pool.awaitTermination(1, TimeUnit.MINUTES)) {
          log.println("javac worker: input ended; waiting for " + inFlight.size() + " requests");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private void accept(WorkRequest request) {
    int id = request.getRequestId();
    if (request.getCancel()) {
      InFlight target = inFlight.get(id);
      if (target != null) {
        target.cancelled = true;
      }
      return;
    }
    InFlight entry = new InFlight();
    if (inFlight.putIfAbsent(id, entry) != null) {
      // Answering would give the client two responses for one id; it has broken the protocol,
      // so say so where its operator will look, and drop the duplicate.
      log.println("javac worker: request id " + id + " is already in flight; ignoring the repeat");
      return;
    }
    pool.execute(() -> respond(request, entry));
  }

  private void respond(WorkRequest request, InFlight entry) {
    int id = request.getRequestId();
    WorkResponse.Builder response = WorkResponse.newBuilder().setRequestId(id);
    try {
      Javac.Outcome outcome = compile(request, entry);
      response.setExitCode(outcome.exitCode()).setOutput(outcome.output());
      if (outcome.cancelled()) {
        response.setWasCancelled(true);
      }
    } catch (CompileRequest.UsageException e) {
      response.setExitCode(Javac.USAGE_ERROR).setOutput("javac worker: " + e.getMessage());
    } catch (RuntimeException | Error e) {
      // A crash inside javac; the client still gets its one answer, with the evidence.
      StringWriter trace = new StringWriter();
      e.printStackTrace(new PrintWriter(trace));
      response.setExitCode(Javac.INTERNAL_ERROR).setOutput("javac worker crashed:\n" + trace);
    }
    inFlight.remove(id);
    synchronized (writeLock) {
      try {
        channel.write(response.build());
      } catch (IOException e) {
        log.println("javac worker: cannot write the response to request " + id + ": " + e);
      }
    }
  }

  private Javac.Outcome compile(WorkRequest request, InFlight entry) {
    Path base = Path.of(request.getSandboxDir());
    CompileRequest compile = CompileRequest.parse(request.getArgumentsList(), base);
    if (request.getVerbosity() > 0) {
      describe(request, base, compile);
    }
    return javac.compile(compile, request.getRequestId(), () -> entry.cancelled);
  }

  /**
   * Diagnostics for {@code verbosity > 0}: what is compiled, and declared inputs that are absent.
   */
  private void describe(WorkRequest request, Path base, CompileRequest compile) {
    List<String> missing = new ArrayList<>();
    for (Input input : request.getInputsList()) {
      if (!Files.exists(base.resolve(input.getPath()))) {
        missing.add(input.getPath());
      }
    }
    log.printf(
        "javac worker: request %d: %d sources, %d classpath jars -> %s (sandbox '%s', %d inputs,"
            + " missing: %s)%n",
        request.getRequestId(),
        compile.sources().size(),
        compile.classpath().size(),
        compile.output(),
        request.getSandboxDir(),
        request.getInputsCount(),
        missing);
  }

  /** A request accepted and not yet answered. */
  private static final class InFlight {
    /** Set by the reading thread, read by the compiling one. */
    volatile boolean cancelled;
  }

  /** Daemon threads: a worker whose input ended must not be kept alive by an idle pool. */
  private static final class CompileThreads implements ThreadFactory {
    private final AtomicInteger count = new AtomicInteger();

    @Override
    public Thread newThread(Runnable task) {
      Thread thread = new Thread(task, "javac-" + count.incrementAndGet());
      thread.setDaemon(true);
      return thread;
    }
  }
}
