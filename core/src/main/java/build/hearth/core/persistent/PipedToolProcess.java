package build.hearth.core.persistent;

import build.hearth.api.ToolProtocol;
import build.hearth.core.internal.Durations;
import build.hearth.core.persistent.ToolMessageCodec.ResponseReader;
import build.hearth.core.persistent.ToolProcessException.Kind;
import build.hearth.core.process.ProcessLauncher;
import build.hearth.core.process.ProcessTrees;
import build.hearth.proto.worker.WorkRequest;
import build.hearth.proto.worker.WorkResponse;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link ToolProcess} that is a real operating-system process, spoken to through its stdin and
 * stdout; its stderr is appended to a log file.
 *
 * <pre>{@code
 * PipedToolProcess process = PipedToolProcess.start(
 *     PipedToolProcess.Spec.newBuilder()
 *         .command(List.of("/usr/bin/java", "-jar", "tools/Builder.jar", "--persistent_worker"))
 *         .environment(Map.of("LANG", "C.UTF-8"))
 *         .workingDirectory(processDirectory)
 *         .logFile(logDirectory.resolve("tool-1.log"))
 *         .protocol(ToolProtocol.PROTO)
 *         .build());
 * WorkResponse response = process.send(request).join();
 * process.shutdown(Duration.ofSeconds(5));
 * }</pre>
 *
 * <p>One daemon thread per process, named after its pid, reads stdout and completes each request's
 * future with the response of the same {@code request_id}. Futures therefore complete on that
 * thread: dependent stages that do real work belong on an executor ({@code thenApplyAsync}), or
 * they hold up every other response of the process.
 *
 * <p>Thread-safe. The first failure (start-up death, protocol violation, death, shutdown) ends the
 * process for good: every pending and later request fails with the same {@link
 * ToolProcessException}, whose message ends with the tail of the process's stderr.
 */
public final class PipedToolProcess implements ToolProcess {
  private static final Logger log = LoggerFactory.getLogger(PipedToolProcess.class);

  /** How much of the end of the stderr log {@link #stderrTail()} returns. */
  static final int STDERR_TAIL_BYTES = 4096;

  /** How long to wait for the exit code of a process whose stdout has just ended. */
  private static final Duration EXIT_PATIENCE = Duration.ofSeconds(5);

  /** How long to wait for a killed process to be gone before giving up with a warning. */
  private static final Duration KILL_PATIENCE = Duration.ofSeconds(10);

  private final Spec spec;
  private final Process process;
  private final long logStart;
  private final ToolMessageCodec codec;
  private final OutputStream stdin;

  /** Held only while one message is written and flushed, so that messages never interleave. */
  private final ReentrantLock writeLock = new ReentrantLock();

  private final Map<Integer, CompletableFuture<WorkResponse>> pending = new ConcurrentHashMap<>();

  /** The failure that ended the process; set once. */
  private final AtomicReference<ToolProcessException> failure = new AtomicReference<>();

  private final AtomicBoolean shutdownStarted = new AtomicBoolean();
  private final CompletableFuture<Void> shutdownDone = new CompletableFuture<>();
  private volatile boolean answeredAny;
  private volatile Thread shutdownThread;

  private PipedToolProcess(Spec spec, Process process, long logStart) {
    this.spec = spec;
    this.process = process;
    this.logStart = logStart;
    this.codec = ToolMessageCodec.of(spec.protocol());
    this.stdin = process.getOutputStream();
  }

  /**
   * Starts the process that {@code spec} describes and the thread that reads its responses.
   *
   * @throws ToolProcessException {@link Kind#START_FAILED START_FAILED} if the process cannot be
   *     started (no such program, not executable, no such directory, the log file not writable)
   */
  public static PipedToolProcess start(Spec spec) {
    Objects.requireNonNull(spec, "spec");
    long logStart;
    try {
      Path parent = spec.logFile().toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      logStart = Files.exists(spec.logFile()) ? Files.size(spec.logFile()) : 0;
    } catch (IOException e) {
      throw new ToolProcessException(
          Kind.START_FAILED,
          "cannot prepare the stderr log " + spec.logFile() + " of the worker process: " + e,
          e);
    }
    ProcessLauncher.Request request =
        ProcessLauncher.Request.piped(
            spec.command(), spec.environment(), spec.workingDirectory(), spec.logFile());
    Process process;
    try {
      process = spec.launcher().launch(request);
    } catch (IOException | RuntimeException e) {
      throw new ToolProcessException(
          Kind.START_FAILED,
          "cannot start the worker process "
              + spec.command()
              + " in "
              + spec.workingDirectory()
              + ": "
              + e.getMessage(),
          e);
    }
    PipedToolProcess tool = new PipedToolProcess(spec, process, logStart);
    Thread reader = new Thread(tool::readResponses, "hearth-tool-" + process.pid());
    reader.setDaemon(true);
    reader.start();
    log.debug("started worker process {}: {}", process.pid(), spec.command());
    return tool;
  }

  @Override
  public long pid() {
    return process.pid();
  }

  @Override
  public boolean isAlive() {
    return failure.get() == null && process.isAlive();
  }

  /** The exit code, once the process has ended. */
  OptionalInt exitCode() {
    return process.isAlive() ? OptionalInt.empty() : OptionalInt.of(process.exitValue());
  }

  /**
   * {@inheritDoc}
   *
   * @throws IllegalArgumentException if the request is a cancel request (use {@link #cancel}), or
   *     its id does not suit the process: 0 for singleplex, non-zero for multiplex
   * @throws IllegalStateException if a request with the same id is pending; for a singleplex
   *     process, if any request is pending
   */
  @Override
  public CompletableFuture<WorkResponse> send(WorkRequest request) {
    Objects.requireNonNull(request, "request");
    if (request.getCancel()) {
      throw new IllegalArgumentException("send cancel requests with cancel(requestId)");
    }
    int id = request.getRequestId();
    if (spec.multiplex() && id == 0) {
      throw new IllegalArgumentException("a multiplex process needs non-zero request ids");
    }
    if (!spec.multiplex() && id != 0) {
      throw new IllegalArgumentException("a singleplex process takes request id 0, not " + id);
    }
    byte[] message = codec.encode(request);
    CompletableFuture<WorkResponse> future = new CompletableFuture<>();
    ToolProcessException failed = failure.get();
    if (failed != null) {
      future.completeExceptionally(failed);
      return future;
    }
    if (pending.putIfAbsent(id, future) != null) {
      throw new IllegalStateException(
          spec.multiplex()
              ? "request " + id + " is already pending on worker process " + pid()
              : "singleplex worker process " + pid() + " already has a request pending");
    }
    // A failure that arrived after the check above may have drained the map before our put.
    failed = failure.get();
    if (failed != null) {
      if (pending.remove(id, future)) {
        future.completeExceptionally(failed);
      }
      return future;
    }
    write(message, "request " + id);
    return future;
  }

  @Override
  public void cancel(int requestId) {
    if (failure.get() != null || !pending.containsKey(requestId)) {
      // Answered or failed already: nothing left to cancel.
      return;
    }
    WorkRequest cancel = WorkRequest.newBuilder().setRequestId(requestId).setCancel(true).build();
    write(codec.encode(cancel), "the cancellation of request " + requestId);
  }

  private void write(byte[] message, String what) {
    writeLock.lock();
    try {
      stdin.write(message);
      stdin.flush();
      return;
    } catch (IOException e) {
      log.debug("writing {} to worker process {} failed", what, pid(), e);
    } finally {
      writeLock.unlock();
    }
    if (failure.get() != null) {
      return;
    }
    // The process most likely died; its stdout will end too, but describe it from here, so that
    // the caller does not depend on the reader thread noticing.
    fail(endedFailure(Kind.DIED, "it stopped reading its stdin while " + what + " was sent"));
  }

  @Override
  public OptionalLong residentBytes() {
    if (!process.isAlive()) {
      return OptionalLong.empty();
    }
    return ProcessTrees.residentBytes(process.toHandle());
  }

  @Override
  public String stderrTail() {
    try (SeekableByteChannel channel = Files.newByteChannel(spec.logFile())) {
      long size = channel.size();
      long from = Math.max(logStart, size - STDERR_TAIL_BYTES);
      if (from >= size) {
        return "";
      }
      ByteBuffer buffer = ByteBuffer.allocate((int) (size - from));
      channel.position(from);
      while (buffer.hasRemaining() && channel.read(buffer) > 0) {
        // read until full or at the end
      }
      byte[] bytes = buffer.array();
      int length = buffer.position();
      int skip = 0;
      if (from > logStart) {
        // Cut in the middle: do not start with half of a UTF-8 character.
        while (skip < length && (bytes[skip] & 0xc0) == 0x80) {
          skip++;
        }
      }
      String tail = new String(bytes, skip, length - skip, StandardCharsets.UTF_8);
      return from > logStart ? "..." + tail : tail;
    } catch (NoSuchFileException e) {
      return "";
    } catch (IOException e) {
      log.debug("cannot read the stderr log {}", spec.logFile(), e);
      return "";
    }
  }

  @Override
  public Path logFile() {
    return spec.logFile();
  }

  @Override
  public void shutdown(Duration grace) {
    Objects.requireNonNull(grace, "grace");
    if (!shutdownStarted.compareAndSet(false, true)) {
      // A callback of a request failed by this shutdown may call it again on the same thread.
      if (Thread.currentThread() != shutdownThread) {
        shutdownDone.join();
      }
      return;
    }
    shutdownThread = Thread.currentThread();
    try {
      fail(
          new ToolProcessException(
              Kind.DIED, "worker process " + pid() + " was shut down" + stderrSuffix()));
      ProcessHandle root = process.toHandle();
      Map<Long, ProcessHandle> tree = new LinkedHashMap<>();
      ProcessTrees.snapshot(root, tree);
      closeStdin(grace);
      if (!awaitExit(grace)) {
        ProcessTrees.snapshot(root, tree);
        log.debug("worker process {} ignored the end of its stdin; sending SIGTERM", pid());
        process.destroy();
        if (!awaitExit(grace)) {
          log.info(
              "worker process {} ignored SIGTERM for {}; killing it",
              pid(),
              Durations.format(grace));
        }
      }
      // Also when the root left gracefully: whatever it started must not outlive it.
      ProcessTrees.kill(root, tree.values());
      if (!awaitExit(KILL_PATIENCE)) {
        log.warn(
            "worker process {} still runs {} after SIGKILL",
            pid(),
            Durations.format(KILL_PATIENCE));
      }
    } finally {
      shutdownDone.complete(null);
    }
  }

  @Override
  public void kill() {
    fail(
        new ToolProcessException(
            Kind.DIED, "worker process " + pid() + " was killed" + stderrSuffix()));
    ProcessTrees.kill(process.toHandle(), List.of());
  }

  /**
   * Closes stdin, which tells a well-behaved tool to leave. A writer blocked on a full pipe holds
   * the lock (and the stream's own monitor), so this gives up after {@code grace} and lets the
   * signals do the work.
   */
  private void closeStdin(Duration grace) {
    boolean locked = false;
    try {
      locked = writeLock.tryLock(grace.toNanos(), TimeUnit.NANOSECONDS);
      if (locked) {
        stdin.close();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (IOException e) {
      log.debug("closing the stdin of worker process {} failed", pid(), e);
    } finally {
      if (locked) {
        writeLock.unlock();
      }
    }
  }

  private boolean awaitExit(Duration patience) {
    try {
      return process.waitFor(patience.toNanos(), TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return !process.isAlive();
    }
  }

  /** The body of the reader thread. */
  private void readResponses() {
    try (InputStream stdout = process.getInputStream()) {
      ResponseReader responses = codec.reader(stdout);
      while (true) {
        WorkResponse response = responses.next();
        if (response == null) {
          stdoutEnded(null);
          return;
        }
        if (!route(response)) {
          return;
        }
      }
    } catch (MalformedResponseException e) {
      protocolViolation(
          "it wrote something on stdout that is not a WorkResponse ("
              + e.problem()
              + "): "
              + e.quote()
              + "; a worker may write only responses on stdout, and its logging belongs on stderr",
          e);
    } catch (EOFException e) {
      stdoutEnded(e.getMessage());
    } catch (IOException e) {
      if (failure.get() == null) {
        log.debug("reading the stdout of worker process {} failed", pid(), e);
      }
      stdoutEnded("reading it failed: " + e.getMessage());
    } catch (RuntimeException | Error e) {
      fail(
          new ToolProcessException(
              Kind.PROTOCOL,
              "reading the responses of worker process " + pid() + " failed: " + e + stderrSuffix(),
              e));
      kill();
      throw e;
    }
  }

  /** Completes the future of {@code response}; false if it answers no pending request. */
  private boolean route(WorkResponse response) {
    int id = response.getRequestId();
    // Like Bazel, a singleplex process is trusted to answer the one request it has.
    CompletableFuture<WorkResponse> future = pending.remove(spec.multiplex() ? id : 0);
    if (future == null) {
      if (failure.get() != null) {
        return true;
      }
      protocolViolation(
          "it answered request "
              + id
              + ", but "
              + (pending.isEmpty()
                  ? "no request is pending"
                  : "the pending ones are " + pendingIds()),
          null);
      return false;
    }
    answeredAny = true;
    future.complete(response);
    return true;
  }

  private List<Integer> pendingIds() {
    List<Integer> ids = new ArrayList<>(pending.keySet());
    ids.sort(null);
    return ids;
  }

  private void protocolViolation(String what, Throwable cause) {
    fail(
        new ToolProcessException(
            Kind.PROTOCOL,
            "worker process " + pid() + " broke the worker protocol: " + what + stderrSuffix(),
            cause));
    ProcessTrees.kill(process.toHandle(), List.of());
  }

  /** Stdout ended: the process ended, or closed it, which leaves it as useless as dead. */
  private void stdoutEnded(String detail) {
    if (failure.get() != null) {
      return;
    }
    ToolProcessException e =
        endedFailure(Kind.DIED, detail == null ? null : "its stdout ended: " + detail);
    if (fail(e)) {
      log.info("{}", e.getMessage());
    }
  }

  /**
   * Describes the end of the process: START_FAILED if it never answered a request, otherwise {@code
   * kind}; with the exit code if it has one within a moment, killing it if it has not.
   */
  private ToolProcessException endedFailure(Kind kind, String detail) {
    boolean exited = awaitExit(EXIT_PATIENCE);
    StringBuilder message = new StringBuilder("worker process ").append(pid());
    if (exited) {
      int code = process.exitValue();
      message
          .append(answeredAny ? " exited with code " : " exited at start-up with code ")
          .append(code);
      if (code > 128 && code < 160) {
        message
            .append(" (killed by signal ")
            .append(code - 128)
            .append(code == 137 ? ", SIGKILL: often the kernel's out-of-memory killer)" : ")");
      }
    } else {
      message.append(" closed its stdout but kept running; it was killed");
      ProcessTrees.kill(process.toHandle(), List.of());
    }
    if (detail != null && !exited) {
      message.append(" (").append(detail).append(')');
    }
    if (!pending.isEmpty()) {
      message.append(" while request(s) ").append(pendingIds()).append(" were pending");
    }
    message.append(stderrSuffix());
    return new ToolProcessException(answeredAny ? kind : Kind.START_FAILED, message.toString());
  }

  /**
   * Makes {@code e} the process's failure unless it already has one, and fails every pending
   * request with the failure.
   *
   * @return whether {@code e} became the failure
   */
  private boolean fail(ToolProcessException e) {
    boolean first = failure.compareAndSet(null, e);
    ToolProcessException failed = failure.get();
    for (Integer id : List.copyOf(pending.keySet())) {
      CompletableFuture<WorkResponse> future = pending.remove(id);
      if (future != null) {
        future.completeExceptionally(failed);
      }
    }
    return first;
  }

  private String stderrSuffix() {
    String tail = stderrTail();
    if (tail.isBlank()) {
      return "; it wrote nothing on stderr (" + spec.logFile() + ")";
    }
    return "; its stderr (" + spec.logFile() + ") ends with:\n" + tail;
  }

  @Override
  public String toString() {
    return "PipedToolProcess{pid=" + process.pid() + ", " + spec.command() + "}";
  }

  /**
   * What to start: an immutable description, reusable to start a replacement process.
   *
   * <p>Thread-safe (immutable).
   */
  public static final class Spec {
    private final List<String> command;
    private final Map<String, String> environment;
    private final Path workingDirectory;
    private final Path logFile;
    private final ToolProtocol protocol;
    private final boolean multiplex;
    private final ProcessLauncher launcher;

    private Spec(Builder builder) {
      this.command = builder.command;
      this.environment = builder.environment;
      this.workingDirectory = builder.workingDirectory;
      this.logFile = builder.logFile;
      this.protocol = builder.protocol;
      this.multiplex = builder.multiplex;
      this.launcher = builder.launcher;
    }

    public static Builder newBuilder() {
      return new Builder();
    }

    /**
     * The command line: an absolute program, then its arguments, {@code --persistent_worker}
     * included.
     */
    public List<String> command() {
      return command;
    }

    /** Exactly the environment of the process; nothing of this JVM's is added. */
    public Map<String, String> environment() {
      return environment;
    }

    public Path workingDirectory() {
      return workingDirectory;
    }

    /** The file that the process's stderr is appended to. */
    public Path logFile() {
      return logFile;
    }

    public ToolProtocol protocol() {
      return protocol;
    }

    public boolean multiplex() {
      return multiplex;
    }

    public ProcessLauncher launcher() {
      return launcher;
    }

    @Override
    public String toString() {
      return "Spec{"
          + command
          + ", "
          + protocol.label()
          + (multiplex ? ", multiplex" : "")
          + ", in "
          + workingDirectory
          + "}";
    }

    /** Builds a {@link Spec}; each setter checks its argument. Not thread-safe. */
    public static final class Builder {
      private List<String> command;
      private Map<String, String> environment = Map.of();
      private Path workingDirectory;
      private Path logFile;
      private ToolProtocol protocol = ToolProtocol.PROTO;
      private boolean multiplex;
      private ProcessLauncher launcher = ProcessLauncher.system();

      private Builder() {}

      /**
       * The command line, {@code --persistent_worker} included where the tool needs it. Required.
       *
       * @throws IllegalArgumentException if it is empty or the program is not an absolute path: the
       *     caller resolves it, because the JDK would search this JVM's {@code PATH}
       */
      public Builder command(List<String> command) {
        List<String> copy = List.copyOf(command);
        if (copy.isEmpty()) {
          throw new IllegalArgumentException("a worker process needs a program to run");
        }
        if (!Path.of(copy.get(0)).isAbsolute()) {
          throw new IllegalArgumentException(
              "the program of a worker process must be an absolute path, not '"
                  + copy.get(0)
                  + "'");
        }
        this.command = copy;
        return this;
      }

      /**
       * Exactly the variables the process gets (default: none).
       *
       * @throws IllegalArgumentException if a name is empty or contains {@code =} or NUL
       */
      public Builder environment(Map<String, String> environment) {
        Map<String, String> copy = Map.copyOf(environment);
        for (Map.Entry<String, String> variable : copy.entrySet()) {
          String name = variable.getKey();
          if (name.isEmpty()
              || name.indexOf('=') >= 0
              || name.indexOf(0) >= 0
              || variable.getValue().indexOf(0) >= 0) {
            throw new IllegalArgumentException("not a valid environment variable: '" + name + "'");
          }
        }
        this.environment = copy;
        return this;
      }

      /** The directory the process runs in; absolute. Required. */
      public Builder workingDirectory(Path workingDirectory) {
        if (!workingDirectory.isAbsolute()) {
          throw new IllegalArgumentException(
              "the working directory must be absolute: " + workingDirectory);
        }
        this.workingDirectory = workingDirectory;
        return this;
      }

      /** The file the process's stderr is appended to; created with its directories. Required. */
      public Builder logFile(Path logFile) {
        this.logFile = Objects.requireNonNull(logFile, "logFile");
        return this;
      }

      /** How requests and responses are framed (default: {@link ToolProtocol#PROTO}). */
      public Builder protocol(ToolProtocol protocol) {
        this.protocol = Objects.requireNonNull(protocol, "protocol");
        return this;
      }

      /** Whether the process takes many requests at once, with non-zero ids (default: false). */
      public Builder multiplex(boolean multiplex) {
        this.multiplex = multiplex;
        return this;
      }

      /**
       * How the process is started (default: {@link ProcessLauncher#system()}). It gets a {@link
       * ProcessLauncher.Request#piped piped} request: stdin and stdout are the pipes the requests
       * and responses travel through, stderr is appended to the log file.
       */
      public Builder launcher(ProcessLauncher launcher) {
        this.launcher = Objects.requireNonNull(launcher, "launcher");
        return this;
      }

      /**
       * @throws IllegalStateException if the command, working directory or log file is missing
       */
      public Spec build() {
        if (command == null || workingDirectory == null || logFile == null) {
          throw new IllegalStateException(
              "a worker process needs a command, a working directory and a log file");
        }
        return new Spec(this);
      }
    }
  }
}
