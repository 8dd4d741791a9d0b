package build.hearth.core.worker;

import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.Command;
import build.bazel.remote.execution.v2.ExecutedActionMetadata;
import build.hearth.api.ContentAddressableStorage;
import build.hearth.api.Digest;
import build.hearth.api.HearthException;
import build.hearth.api.PoolStats;
import build.hearth.api.StatusCode;
import build.hearth.core.cas.DirectoryBlobs;
import build.hearth.core.config.PersistentWorkersConfig;
import build.hearth.core.config.SandboxConfig;
import build.hearth.core.execroot.ExecRoot;
import build.hearth.core.execroot.ExecRoots;
import build.hearth.core.execution.ActionRunner;
import build.hearth.core.execution.Cancellation;
import build.hearth.core.internal.Durations;
import build.hearth.core.internal.ProtoTime;
import build.hearth.core.internal.Threads;
import build.hearth.core.persistent.ToolPool;
import build.hearth.core.process.ProcessLauncher;
import build.hearth.core.process.ProcessTrees;
import build.hearth.core.sandbox.ActionLimits;
import build.hearth.core.sandbox.ConfinedProcess;
import build.hearth.core.sandbox.Confinement;
import build.hearth.core.sandbox.Sandbox;
import build.hearth.core.sandbox.SandboxCapabilities;
import build.hearth.spi.storage.BlobStore;
import build.hearth.spi.worker.ActionOutcome;
import build.hearth.spi.worker.ExecutionTask;
import com.google.protobuf.Timestamp;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs actions as processes on this machine: the in-process worker's runner and the {@code hearth
 * worker} process's alike.
 *
 * <pre>{@code
 * try (LocalActionRunner runner = LocalActionRunner.newBuilder()
 *         .workerName("local")
 *         .workDirectory(Path.of("/var/lib/hearth/work"))
 *         .localCache(filesystemBlobStore)
 *         .cas(instanceName -> serverCas)
 *         .build()) {
 *   ActionOutcome outcome = runner.run(task, new Cancellation());
 * }
 * }</pre>
 *
 * <h2>What a run does</h2>
 *
 * <ol>
 *   <li>Materializes the input tree in a fresh exec root from the local cache, fetching what it
 *       lacks from the instance's CAS (see {@link ExecRoots}); a malformed tree is refused before
 *       anything runs. Creates the working directory and the parents of every output path.
 *   <li>Runs {@code arguments} in its {@link Sandbox} (see docs/sandbox.md): unless the sandbox is
 *       off, in bubblewrap's namespaces seeing only its exec root, the read-only system directories
 *       and a private {@code /tmp}, with only a loopback network unless its platform asks for
 *       {@code network=on} and the worker allows it, and on a root worker as the configured
 *       unprivileged user, to whom the exec root's directories are handed over first; in a cgroup
 *       with its memory and process limits where the machine has cgroups. It runs in the working
 *       directory with exactly the command's environment variables (nothing of this JVM's
 *       environment), standard input from {@code /dev/null}, and standard output and error in files
 *       beside the exec roots. The program, {@code arguments[0]}, is resolved as REAPI describes:
 *       an absolute path as it is; a relative path with a {@code /} against the working directory;
 *       a bare name through the {@code PATH} of the command's environment (empty entries meaning
 *       the working directory), or {@code /bin:/usr/bin} if it sets none, as {@code execvp} does.
 *       The process is started with the resolved absolute path as its {@code argv[0]}.
 *   <li>Waits for the process to end, for the task's timeout, or for the {@link Cancellation},
 *       whichever comes first. On timeout or cancellation it kills the process and every descendant
 *       it can find with SIGKILL; see the limits below.
 *   <li>Uploads the outputs, stdout and stderr to the instance's CAS (streamed, never held in
 *       memory) and reports them with the exit code and {@link ExecutedActionMetadata}: the worker
 *       name and the start and end of the worker's part, the input fetch, the execution and the
 *       output upload, read from the injected clock.
 *   <li>Deletes the exec root and the stdout and stderr files, whatever happened.
 * </ol>
 *
 * <h2>Outcomes and errors</h2>
 *
 * <ul>
 *   <li>A command that ran to its end: {@link ActionOutcome#completed}, whatever its exit code;
 *       when a cgroup limit acted on it (its memory limit killed it, its process limit refused a
 *       fork), with a message saying so and naming the platform property that asks for more.
 *   <li>A command over its timeout: DEADLINE_EXCEEDED, "command exceeded its timeout of 10s and was
 *       killed", with the result it produced so far (outputs, stdout, stderr). Its exit code is
 *       what the process reported, normally 137 (128 + SIGKILL), or -1 if it could not be reaped.
 *   <li>A cancelled action: CANCELLED, with the partial result likewise; if the cancellation came
 *       before the command started, nothing runs and the result holds only the metadata.
 *   <li>An action that cannot run throws {@link HearthException}: INVALID_ARGUMENT for a malformed
 *       sandbox property ({@code network}, {@code memoryLimit}, {@code processLimit}) or one above
 *       the worker's maximum, for a malformed input tree, output path, working directory,
 *       environment variable or argument (such as an empty command); FAILED_PRECONDITION for inputs
 *       missing from the CAS, and for a program that is not found, not executable, or cannot be
 *       started, the message naming it (REAPI counts both as failures to set up the action, not as
 *       a command that ran and failed), and for {@code network=on} on a worker that does not allow
 *       it; RESOURCE_EXHAUSTED when the disk is full; UNAVAILABLE once closed; INTERNAL for other
 *       failures of this machine; and what the instance's CAS throws.
 * </ul>
 *
 * <h2>Limits</h2>
 *
 * In the sandbox, the command is in a pid namespace of its own: when it exits (or bwrap is killed),
 * the kernel kills everything it left, double-forked daemons included. With the sandbox off, or
 * where the kernel refuses the pid namespace, the process tree is found through {@link
 * ProcessHandle#descendants()}, since the JDK offers no process groups: a process that detached
 * itself from the tree (a daemon that double-forked), or that a command left running in the
 * background when its main process exited, is not killed. The timeout is measured with {@link
 * System#nanoTime()}, not the injected clock, since the process runs in real time.
 *
 * <p>Thread-safe: {@link #run} may be called from many threads at once. The work directory belongs
 * to one runner, which deletes what an earlier runner left in it. {@link #close()} must come after
 * the last run has returned; it does not close the local cache or the CASes, which the caller owns.
 */
public final class LocalActionRunner implements ActionRunner {
  private static final Logger log = LoggerFactory.getLogger(LocalActionRunner.class);
  private static final String LOGS = "logs";
  private static final String INSTANCES = "instances";
  private static final String PERSISTENT = "persistent";
  private static final Duration KILL_PATIENCE = Duration.ofSeconds(5);
  private static final int DEFAULT_FETCH_THREADS = 4;

  private final String workerName;
  private final Path logsDirectory;
  private final InstanceExecRoots execRoots;
  private final ProcessLauncher launcher;
  private final Sandbox sandbox;
  private final Clock clock;
  private final ExecutorService ownedFetchExecutor;
  private final ToolPool pool;
  private final PersistentActionRunner persistent;
  private final AtomicBoolean closed = new AtomicBoolean();

  private LocalActionRunner(
      Builder b,
      Path workDirectory,
      Executor fetchExecutor,
      ExecutorService owned,
      Sandbox sandbox) {
    this.workerName = b.workerName;
    this.logsDirectory = workDirectory.resolve(LOGS);
    this.execRoots =
        new InstanceExecRoots(
            workDirectory.resolve(INSTANCES),
            b.localCache,
            b.cas,
            fetchExecutor,
            b.allowAbsoluteSymlinks,
            b.maxDirectoryBytes);
    this.launcher = b.launcher;
    this.sandbox = sandbox;
    this.clock = b.clock;
    this.ownedFetchExecutor = owned;
    PersistentWorkersConfig config = b.persistentWorkers;
    if (config != null && config.enabled()) {
      ProcessLauncher toolLauncher =
          b.sandbox.mode() == SandboxConfig.Mode.OFF
              ? launcher
              : sandbox.toolLauncher(launcher, workDirectory);
      ToolStarter starter =
          new ToolStarter(logsDirectory.resolve(PERSISTENT), toolLauncher, sandbox.actionUser());
      this.pool = PersistentPools.build(config, workDirectory.resolve(PERSISTENT), starter, clock);
      this.persistent =
          new PersistentActionRunner(
              workerName, config, pool, starter, this::now, sandbox.actionUser());
    } else {
      this.pool = null;
      this.persistent = null;
    }
  }

  public static Builder newBuilder() {
    return new Builder();
  }

  /** The name reported as {@code ExecutedActionMetadata.worker}. */
  public String workerName() {
    return workerName;
  }

  @Override
  public ActionOutcome run(ExecutionTask task, Cancellation cancellation) {
    Objects.requireNonNull(task, "task");
    Objects.requireNonNull(cancellation, "cancellation");
    ExecutedActionMetadata.Builder metadata =
        ExecutedActionMetadata.newBuilder().setWorker(workerName).setWorkerStartTimestamp(now());
    Command command = task.command();
    List<String> arguments = checkedArguments(command);
    Map<String, String> environment = checkedEnvironment(command);
    ActionLimits limits = ActionLimits.read(task.platform(), sandbox.config());
    Digest inputRoot = Digest.fromProto(task.action().getInputRootDigest());
    ContentAddressableStorage cas = execRoots.cas(task.instanceName());
    ExecRoots roots = execRoots.forInstance(task.instanceName(), cas);
    if (cancellation.isCancelled()) {
      return notStarted(metadata);
    }
    if (persistent != null) {
      Optional<PersistentActionRunner.Recognized> recognized = persistent.recognize(task);
      if (recognized.isPresent()) {
        PersistentActionRunner.Attempt attempt =
            persistent.run(task, recognized.get(), roots, cas, cancellation, metadata);
        if (!attempt.oneShot()) {
          return attempt.outcome();
        }
      }
    }

    metadata.setInputFetchStartTimestamp(now());
    try (ExecRoot root = roots.prepare(inputRoot)) {
      metadata.setInputFetchCompletedTimestamp(now());
      root.createOutputDirectories(command);
      // On a root worker, the action runs as another user: its directories become that user's,
      // its inputs stay the worker's and read-only.
      sandbox.actionUser().ifPresent(user -> root.handOver(user.user(), user.group()));
      Path workingDirectory = root.workingDirectory(command);
      List<String> argv = new ArrayList<>(arguments);
      argv.set(
          0, ProgramResolver.resolve(arguments.get(0), environment, workingDirectory).toString());
      if (cancellation.isCancelled()) {
        return notStarted(metadata);
      }
      Logs logs = Logs.create(logsDirectory);
      try {
        ProcessLauncher.Request request =
            ProcessLauncher.Request.toFiles(
                argv, environment, workingDirectory, logs.stdout(), logs.stderr());
        metadata.setExecutionStartTimestamp(now());
        Ending ending =
            execute(
                request,
                limits.confinement(root.path()),
                arguments.get(0),
                task.timeout(),
                cancellation);
        metadata.setExecutionCompletedTimestamp(now());

        metadata.setOutputUploadStartTimestamp(now());
        ActionResult.Builder result = ActionResult.newBuilder().setExitCode(ending.exitCode());
        root.collectOutputs(command, cas, result);
        result.setStdoutDigest(LogUploads.upload(logs.stdout(), cas, "stdout").toProto());
        result.setStderrDigest(LogUploads.upload(logs.stderr(), cas, "stderr").toProto());
        metadata.setOutputUploadCompletedTimestamp(now());
        result.setExecutionMetadata(metadata.setWorkerCompletedTimestamp(now()));
        return switch (ending.how()) {
          case EXITED -> ActionOutcome.completed(result.build(), ending.limitMessage());
          case TIMED_OUT ->
              new ActionOutcome(
                  result.build(),
                  StatusCode.DEADLINE_EXCEEDED,
                  "command exceeded its timeout of "
                      + Durations.format(task.timeout())
                      + " and was killed");
          case CANCELLED ->
              new ActionOutcome(
                  result.build(),
                  StatusCode.CANCELLED,
                  "the action was cancelled and its command killed");
        };
      } finally {
        logs.delete();
      }
    }
  }

  private enum How {
    EXITED,
    TIMED_OUT,
    CANCELLED
  }

  /**
   * How the command ended.
   *
   * @param limitMessage what its sandbox's limits did to it, for a person; empty for nothing
   */
  private record Ending(How how, int exitCode, String limitMessage) {}

  /**
   * Starts the process in its sandbox and waits for its end, its timeout or its cancellation; then
   * ends whatever it left behind.
   */
  private Ending execute(
      ProcessLauncher.Request request,
      Confinement confinement,
      String program,
      Duration timeout,
      Cancellation cancellation) {
    CompletableFuture<Void> cancelled = new CompletableFuture<>();
    // Runs on the cancelling thread (the scheduler's callback thread): only wake this one, which
    // does the killing.
    cancellation.onCancel(() -> cancelled.complete(null));
    ConfinedProcess confined;
    try {
      confined = sandbox.launch(launcher, request, confinement);
    } catch (IOException e) {
      throw HearthException.failedPrecondition(
          "cannot start program '%s' (%s): %s",
          program, request.arguments().get(0), e.getMessage());
    } catch (IllegalArgumentException e) {
      throw HearthException.invalidArgument(
          "cannot start program '%s': %s", program, e.getMessage());
    }
    Process process = confined.process();
    boolean settled = false;
    try {
      How how;
      try {
        CompletableFuture.anyOf(process.onExit(), cancelled)
            .get(Durations.toNanosSaturated(timeout), TimeUnit.NANOSECONDS);
        how = process.isAlive() ? How.CANCELLED : How.EXITED;
      } catch (TimeoutException e) {
        how = process.isAlive() ? How.TIMED_OUT : How.EXITED;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new HearthException(
            StatusCode.CANCELLED,
            "the worker was interrupted while the command ran; it was killed");
      } catch (ExecutionException e) {
        throw HearthException.internal("waiting for the command failed", e.getCause());
      }
      if (how != How.EXITED) {
        kill(process);
      }
      int exitCode = exitCode(process);
      String limitMessage = confined.limitMessage().orElse("");
      settled = true;
      return new Ending(how, exitCode, limitMessage);
    } finally {
      if (!settled) {
        // Leaving abnormally must not leave the command running.
        kill(process);
      }
      confined.close();
    }
  }

  private void kill(Process process) {
    if (!ProcessTrees.killAndWait(process.toHandle(), KILL_PATIENCE)) {
      log.warn(
          "Worker {}: processes of command {} still run {} after SIGKILL",
          workerName,
          process.pid(),
          Durations.format(KILL_PATIENCE));
    }
  }

  private int exitCode(Process process) {
    try {
      if (process.waitFor(KILL_PATIENCE.toNanos(), TimeUnit.NANOSECONDS)) {
        return process.exitValue();
      }
      log.warn("Worker {}: process {} did not end after SIGKILL", workerName, process.pid());
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new HearthException(
          StatusCode.CANCELLED, "the worker was interrupted while its command was ending");
    }
  }

  private ActionOutcome notStarted(ExecutedActionMetadata.Builder metadata) {
    ActionResult result =
        ActionResult.newBuilder()
            .setExecutionMetadata(metadata.setWorkerCompletedTimestamp(now()))
            .build();
    return new ActionOutcome(
        result, StatusCode.CANCELLED, "the action was cancelled before its command started");
  }

  private static List<String> checkedArguments(Command command) {
    List<String> arguments = command.getArgumentsList();
    if (arguments.isEmpty()) {
      throw HearthException.invalidArgument(
          "the command has no arguments; arguments[0] must name the program to run");
    }
    for (int i = 0; i < arguments.size(); i++) {
      if (arguments.get(i).indexOf('\0') >= 0) {
        throw HearthException.invalidArgument("arguments[%d] of the command holds a NUL byte", i);
      }
    }
    return arguments;
  }

  private static Map<String, String> checkedEnvironment(Command command) {
    Map<String, String> environment = new LinkedHashMap<>();
    for (Command.EnvironmentVariable variable : command.getEnvironmentVariablesList()) {
      String name = variable.getName();
      if (name.isEmpty() || name.indexOf('=') >= 0 || name.indexOf('\0') >= 0) {
        throw HearthException.invalidArgument(
            "environment variable name '%s' is empty or holds '=' or a NUL byte", name);
      }
      if (variable.getValue().indexOf('\0') >= 0) {
        throw HearthException.invalidArgument(
            "the value of environment variable %s holds a NUL byte", name);
      }
      if (environment.put(name, variable.getValue()) != null) {
        throw HearthException.invalidArgument(
            "environment variable %s is set twice in the command", name);
      }
    }
    return environment;
  }

  private Timestamp now() {
    return ProtoTime.of(clock.instant());
  }

  /** What this runner's sandbox does on this machine, as found when it was built. */
  public SandboxCapabilities sandboxCapabilities() {
    return sandbox.capabilities();
  }

  /**
   * The statistics of the persistent-worker pool, or empty when the runner runs every action as an
   * ordinary process.
   */
  public Optional<PoolStats> persistentWorkerStats() {
    return pool == null ? Optional.empty() : Optional.of(pool.stats());
  }

  /**
   * Calls {@code listener} with the number of idle warm processes per {@code persistentWorkerKey}
   * whenever it may have changed, and once now; for a scheduler that routes actions to warm
   * processes. Called on the thread that changed the pool, outside its locks; it must not block.
   */
  public void onWarmProcessesChanged(Consumer<Map<String, Integer>> listener) {
    Objects.requireNonNull(listener, "listener");
    if (pool == null) {
      return;
    }
    pool.addIdleListener(() -> listener.accept(pool.idleByClientKey()));
    listener.accept(pool.idleByClientKey());
  }

  /**
   * Ends every persistent worker process (closing stdin, then SIGTERM, then SIGKILL after the grace
   * period), closes the exec roots of every instance and stops the fetch threads it made.
   * Idempotent.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    try {
      if (pool != null) {
        pool.close();
      }
      execRoots.close();
      sandbox.close();
    } finally {
      if (ownedFetchExecutor != null) {
        ownedFetchExecutor.shutdownNow();
      }
    }
  }

  @Override
  public String toString() {
    return "LocalActionRunner{" + workerName + "}";
  }

  /** The stdout and stderr files of one run. */
  private record Logs(Path stdout, Path stderr) {
    static Logs create(Path directory) {
      try {
        Path stdout = Files.createTempFile(directory, "action-", ".stdout");
        Path stderr =
            stdout.resolveSibling(stdout.getFileName().toString().replace(".stdout", ".stderr"));
        Files.createFile(stderr);
        return new Logs(stdout, stderr);
      } catch (IOException e) {
        throw HearthException.internal(
            "cannot create the stdout and stderr files in " + directory, e);
      }
    }

    void delete() {
      for (Path file : List.of(stdout, stderr)) {
        try {
          Files.deleteIfExists(file);
        } catch (IOException e) {
          log.warn("Cannot delete {}; it is removed at the next start: {}", file, e.toString());
        }
      }
    }
  }

  /**
   * Configures a {@link LocalActionRunner}. The worker name, work directory, local cache and CAS
   * function are required. Each setter checks its argument. Not thread-safe.
   */
  public static final class Builder {
    private String workerName;
    private Path workDirectory;
    private BlobStore localCache;
    private Function<String, ContentAddressableStorage> cas;
    private Executor fetchExecutor;
    private ProcessLauncher launcher = ProcessLauncher.system();
    private Clock clock = Clock.systemUTC();
    private boolean allowAbsoluteSymlinks;
    private long maxDirectoryBytes = DirectoryBlobs.DEFAULT_MAX_DIRECTORY_BYTES;
    private PersistentWorkersConfig persistentWorkers;
    private SandboxConfig sandbox = SandboxConfig.OFF;

    private Builder() {}

    /**
     * Confines every process the runner starts, actions' and persistent tools' alike; {@link
     * SandboxConfig#OFF} by default. {@link #build()} probes what this machine allows.
     */
    public Builder sandbox(SandboxConfig sandbox) {
      this.sandbox = Objects.requireNonNull(sandbox, "sandbox");
      return this;
    }

    /**
     * Runs actions that carry {@code persistentWorkerKey} on warm tool processes, with these limits
     * and tools. Without it (or with it disabled), every action runs as an ordinary process.
     */
    public Builder persistentWorkers(PersistentWorkersConfig config) {
      this.persistentWorkers = Objects.requireNonNull(config, "config");
      return this;
    }

    /** The name reported in each result's {@code ExecutedActionMetadata.worker}. */
    public Builder workerName(String name) {
      Objects.requireNonNull(name, "name");
      if (name.isBlank()) {
        throw new IllegalArgumentException("a worker needs a name");
      }
      this.workerName = name;
      return this;
    }

    /**
     * Where exec roots and the stdout and stderr files are made; created if missing. It belongs to
     * this runner: what an earlier runner left there is deleted. Put it on the file system of the
     * local cache, so that inputs are hard-linked rather than copied.
     */
    public Builder workDirectory(Path directory) {
      this.workDirectory = Objects.requireNonNull(directory, "directory");
      return this;
    }

    /**
     * The local CAS cache, a {@code filesystem} blob store that input files are linked from. The
     * caller keeps owning it.
     *
     * @throws IllegalArgumentException if the store does not keep its blobs in files
     */
    public Builder localCache(BlobStore store) {
      Objects.requireNonNull(store, "store");
      // ExecRoots checks the kind of store; asking it now fails here rather than at the first
      // action.
      ExecRoots.newBuilder().localCache(store);
      this.localCache = store;
      return this;
    }

    /**
     * The CAS of each REAPI instance, given its name: where missing inputs are fetched from and
     * outputs, stdout and stderr are uploaded to. For the in-process worker that is the server's
     * own CAS; for a worker process, a client of the server's. Called for each action; it must
     * return the same CAS for a name each time, and throw a {@link HearthException} (or return
     * null, reported as FAILED_PRECONDITION) for an instance it does not know.
     */
    public Builder cas(Function<String, ContentAddressableStorage> casForInstance) {
      this.cas = Objects.requireNonNull(casForInstance, "casForInstance");
      return this;
    }

    /**
     * Runs the fetches of input blobs missing from the local cache, several at once. By default the
     * runner makes a pool of 4 daemon threads and stops it on {@link #close()}; an executor given
     * here is the caller's to shut down. Do not give it the threads that call {@link #run}.
     */
    public Builder fetchExecutor(Executor executor) {
      this.fetchExecutor = Objects.requireNonNull(executor, "executor");
      return this;
    }

    /**
     * Starts every process: the actions' own and the persistent workers' tool processes; {@link
     * ProcessLauncher#system()} by default. Unless the sandbox is off, it is given the sandbox's
     * command line (bwrap wrapping the command), not the command itself.
     */
    public Builder launcher(ProcessLauncher launcher) {
      this.launcher = Objects.requireNonNull(launcher, "launcher");
      return this;
    }

    /** The clock of the {@code ExecutedActionMetadata} timestamps; the system clock by default. */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** Whether input symlinks may have absolute targets; false by default. */
    public Builder allowAbsoluteSymlinks(boolean allow) {
      this.allowAbsoluteSymlinks = allow;
      return this;
    }

    /**
     * The largest Directory blob of an input tree read whole; 16 MiB by default. A larger one fails
     * its action with INVALID_ARGUMENT before a byte of it is fetched.
     *
     * @throws IllegalArgumentException if it is below 1 KiB or above 2 GiB
     */
    public Builder maxDirectoryBytes(long max) {
      DirectoryBlobs.forDirectories(max); // refuses a bound out of range here, not at first use
      this.maxDirectoryBytes = max;
      return this;
    }

    /**
     * Creates the work directory and clears what an earlier runner left in it.
     *
     * @throws IllegalStateException if a required setting is missing
     * @throws HearthException INTERNAL if the work directory cannot be prepared;
     *     FAILED_PRECONDITION if the sandbox is required and this machine refuses part of it, or
     *     its user or group does not exist on a root worker
     */
    public LocalActionRunner build() {
      if (workerName == null || workDirectory == null || localCache == null || cas == null) {
        throw new IllegalStateException(
            "LocalActionRunner needs a workerName, a workDirectory, a localCache and a cas");
      }
      Path dir;
      try {
        Files.createDirectories(workDirectory);
        dir = workDirectory.toRealPath();
        Path logs = dir.resolve(LOGS);
        Files.createDirectories(logs);
        deleteFiles(logs);
        Files.createDirectories(logs.resolve(PERSISTENT));
        Files.createDirectories(dir.resolve(INSTANCES));
      } catch (IOException e) {
        throw HearthException.internal(
            "cannot prepare the work directory " + workDirectory + ": " + e.getMessage(), e);
      }
      Sandbox started = Sandbox.start(sandbox, workerName);
      started.warnIfVisible(dir);
      ExecutorService owned = null;
      Executor executor = fetchExecutor;
      if (executor == null) {
        owned =
            Executors.newFixedThreadPool(
                DEFAULT_FETCH_THREADS, Threads.daemon("hearth-fetch-" + workerName + "-"));
        executor = owned;
      }
      return new LocalActionRunner(this, dir, executor, owned, started);
    }

    private static void deleteFiles(Path directory) throws IOException {
      try (DirectoryStream<Path> files = Files.newDirectoryStream(directory)) {
        for (Path file : files) {
          // Persistent workers' stderr logs stay in their own directory, for operators to read.
          if (!Files.isDirectory(file, LinkOption.NOFOLLOW_LINKS)) {
            Files.deleteIfExists(file);
          }
        }
      }
    }
  }
}
