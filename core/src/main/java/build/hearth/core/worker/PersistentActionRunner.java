package build.hearth.core.worker;

import static build.hearth.core.scheduler.PersistentWorkerProperties.KEY;
import static build.hearth.core.scheduler.PersistentWorkerProperties.MULTIPLEX;
import static build.hearth.core.scheduler.PersistentWorkerProperties.PROTOCOL;
import static build.hearth.core.scheduler.PersistentWorkerProperties.TOOL;

import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.Command;
import build.bazel.remote.execution.v2.ExecutedActionMetadata;
import build.bazel.remote.execution.v2.Platform;
import build.hearth.api.ContentAddressableStorage;
import build.hearth.api.Digest;
import build.hearth.api.HearthException;
import build.hearth.api.RetirementReason;
import build.hearth.api.StatusCode;
import build.hearth.api.ToolProtocol;
import build.hearth.core.config.PersistentWorkersConfig;
import build.hearth.core.execroot.ExecRoot;
import build.hearth.core.execroot.ExecRoots;
import build.hearth.core.execroot.InputFiles;
import build.hearth.core.execution.Cancellation;
import build.hearth.core.internal.Durations;
import build.hearth.core.persistent.Lease;
import build.hearth.core.persistent.ToolCommandLine;
import build.hearth.core.persistent.ToolKey;
import build.hearth.core.persistent.ToolPool;
import build.hearth.core.persistent.ToolProcessException;
import build.hearth.core.scheduler.PersistentWorkerProperties;
import build.hearth.proto.execution.PersistentWorkerRun;
import build.hearth.proto.worker.Input;
import build.hearth.proto.worker.WorkRequest;
import build.hearth.proto.worker.WorkResponse;
import build.hearth.spi.worker.ActionOutcome;
import build.hearth.spi.worker.ExecutionTask;
import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs persistent-worker actions on the pool's warm tool processes: the part of {@link
 * LocalActionRunner} for actions whose platform carries {@code persistentWorkerKey}.
 *
 * <h2>Which actions</h2>
 *
 * An action runs here when its platform (the action's, or the command's for older clients) has
 * {@code persistentWorkerKey}, its command line holds at least one flag file ({@code @file} or
 * {@code --flagfile=file}), and the worker's configuration allows its key or tool. Anything else
 * runs as an ordinary process, and so does an action whose key is at its cap when the pool's policy
 * is one-shot: the unchanged command line, flag files and all, is exactly the tool's one-shot mode.
 *
 * <h2>One run</h2>
 *
 * <ol>
 *   <li>The key: the client's key and tool, the startup command (every argument but the flag files,
 *       {@code --persistent_worker} last; a tool the configuration defines may replace it), the
 *       command's environment, protocol, multiplex, and the digests of the tool files: the inputs
 *       marked {@code bazel_tool_input}, or else the inputs the startup command names.
 *   <li>A lease from the pool: an idle process of the key, a new one, or a wait at the cap. A new
 *       process starts in its own directory after that directory was brought in line with this
 *       action's input tree, so that its tool files are there.
 *   <li>The request's directory (the process's own directory; for a multiplex process a private
 *       {@code _sandbox/N} directory inside it, passed as {@code sandbox_dir}) is brought in line
 *       with the input tree: hard links from the local cache, unchanged files kept, everything else
 *       removed. The flag files are expanded there into the request's arguments.
 *   <li>The request goes out with every input's path and digest; the response's {@code output}
 *       becomes the action's stderr, its exit code the action's. The declared outputs are collected
 *       from the directory, also when the tool failed.
 *   <li>A process that breaks the protocol, dies, or does not start is retired, and the action is
 *       tried once more on a fresh process; the second failure fails the action with the tool's
 *       message and the tail of its stderr.
 * </ol>
 *
 * <p>Cancellation and timeouts send {@code cancel=true} to a tool the configuration declares
 * cancellable and wait a grace period for its answer; any other tool's process is killed.
 *
 * <p>Thread-safe.
 */
final class PersistentActionRunner {
  private static final Logger log = LoggerFactory.getLogger(PersistentActionRunner.class);

  private static final String SANDBOXES = "_sandbox";
  private static final Duration CANCEL_PATIENCE = Duration.ofSeconds(10);

  private final String workerName;
  private final PersistentWorkersConfig config;
  private final ToolPool pool;
  private final ToolStarter starter;
  private final Supplier<com.google.protobuf.Timestamp> now;
  private final java.util.Optional<build.hearth.core.sandbox.ActionUser> actionUser;

  /**
   * @param actionUser the user tool processes run as, when another than the worker's: each
   *     request's synced directory is handed over to it
   */
  PersistentActionRunner(
      String workerName,
      PersistentWorkersConfig config,
      ToolPool pool,
      ToolStarter starter,
      Supplier<com.google.protobuf.Timestamp> now,
      java.util.Optional<build.hearth.core.sandbox.ActionUser> actionUser) {
    this.workerName = workerName;
    this.config = config;
    this.pool = pool;
    this.starter = starter;
    this.now = now;
    this.actionUser = actionUser;
  }

  /** What makes an action persistent: its platform's key, tool, protocol and multiplex. */
  record Recognized(
      String clientKey,
      String tool,
      ToolProtocol protocol,
      boolean multiplex,
      boolean cancellable,
      ToolCommandLine commandLine) {}

  /**
   * Whether {@code task} runs on a persistent process, and how.
   *
   * @throws HearthException INVALID_ARGUMENT for a malformed persistent-worker property
   */
  Optional<Recognized> recognize(ExecutionTask task) {
    Map<String, String> properties = persistentProperties(task);
    String clientKey = properties.get(KEY);
    if (clientKey == null || clientKey.isEmpty()) {
      return Optional.empty();
    }
    String tool = properties.getOrDefault(TOOL, "");
    if (!config.allows(clientKey, tool)) {
      log.debug(
          "Worker {}: key {} / tool '{}' is not allowed to run persistently; running it as an"
              + " ordinary process",
          workerName,
          clientKey,
          tool);
      return Optional.empty();
    }
    if (!task.command().getWorkingDirectory().isEmpty()) {
      // A process's working directory is fixed when it starts, and the pool key does not hold
      // one; Bazel never sets it for worker actions.
      log.debug(
          "Worker {}: action {} sets a working directory; running it as an ordinary process",
          workerName,
          task.actionDigest());
      return Optional.empty();
    }
    Optional<ToolCommandLine> split = ToolCommandLine.split(task.command().getArgumentsList());
    if (split.isEmpty()) {
      return Optional.empty();
    }
    PersistentWorkersConfig.Tool defined = config.tools().get(tool);
    ToolProtocol protocol =
        defined != null && defined.protocol().isPresent()
            ? defined.protocol().get()
            : ToolProtocol.fromProperty(properties.get(PROTOCOL));
    boolean multiplex =
        defined != null && defined.multiplex().isPresent()
            ? defined.multiplex().get()
            : flag(properties.get(MULTIPLEX));
    boolean cancellable = defined != null && defined.cancellable();
    return Optional.of(
        new Recognized(clientKey, tool, protocol, multiplex, cancellable, split.get()));
  }

  private static Map<String, String> persistentProperties(ExecutionTask task) {
    Platform platform = task.platform();
    Map<String, String> properties = new LinkedHashMap<>();
    for (Platform.Property property : platform.getPropertiesList()) {
      String name = property.getName();
      if (PersistentWorkerProperties.ALL.contains(name)) {
        if (properties.put(name, property.getValue()) != null) {
          throw HearthException.invalidArgument(
              "platform property %s is given twice; a persistent worker takes one value", name);
        }
      }
    }
    return properties;
  }

  private static boolean flag(String value) {
    if (value == null || value.isEmpty()) {
      return false;
    }
    return switch (value.toLowerCase(Locale.ROOT)) {
      case "1", "true", "yes" -> true;
      case "0", "false", "no" -> false;
      default ->
          throw HearthException.invalidArgument(
              "platform property %s is '%s'; use 'true' or 'false'", MULTIPLEX, value);
    };
  }

  /** The result of {@link #run}: an outcome, or the signal to run the action as a process. */
  record Attempt(ActionOutcome outcome) {
    static final Attempt ONE_SHOT = new Attempt(null);

    boolean oneShot() {
      return outcome == null;
    }
  }

  /**
   * Runs a recognized action on a persistent process; see the class comment.
   *
   * @throws HearthException as {@link LocalActionRunner#run} documents, for inputs that cannot be
   *     fetched or laid out
   */
  Attempt run(
      ExecutionTask task,
      Recognized recognized,
      ExecRoots roots,
      ContentAddressableStorage cas,
      Cancellation cancellation,
      ExecutedActionMetadata.Builder metadata) {
    Command command = task.command();
    Digest inputRoot = Digest.fromProto(task.action().getInputRootDigest());
    metadata.setInputFetchStartTimestamp(now.get());
    InputFiles inputs = roots.inputFiles(inputRoot);
    ToolKey key = key(recognized, command, inputs);

    ToolProcessException firstFailure = null;
    for (int attempt = 1; attempt <= 2; attempt++) {
      Lease lease = acquire(key, roots, inputs, task, cancellation);
      if (lease.oneShot()) {
        return Attempt.ONE_SHOT;
      }
      try {
        return new Attempt(
            request(task, recognized, key, inputs, lease, roots, cas, cancellation, metadata));
      } catch (ToolProcessException e) {
        lease.retire(RetirementReason.CRASH, e.getMessage());
        if (firstFailure != null) {
          return new Attempt(failed(metadata, firstFailure, e));
        }
        firstFailure = e;
        log.warn(
            "Worker {}: persistent worker {} (pid {}) failed action {}; retrying it on a fresh"
                + " process: {}",
            workerName,
            key,
            lease.process().pid(),
            task.actionDigest(),
            e.getMessage());
      } catch (RuntimeException | Error e) {
        lease.release();
        throw e;
      }
    }
    throw new AssertionError("unreachable");
  }

  private ToolKey key(Recognized recognized, Command command, InputFiles inputs) {
    PersistentWorkersConfig.Tool defined = config.tools().get(recognized.tool());
    List<String> startup = recognized.commandLine().startupArguments();
    if (defined != null && !defined.command().isEmpty()) {
      startup = new ArrayList<>(defined.command());
      startup.add(ToolCommandLine.PERSISTENT_WORKER_FLAG);
    }
    Map<String, String> environment = new LinkedHashMap<>();
    for (Command.EnvironmentVariable variable : command.getEnvironmentVariablesList()) {
      environment.put(variable.getName(), variable.getValue());
    }
    TreeMap<String, String> toolDigests = new TreeMap<>();
    if (!inputs.toolInputs().isEmpty()) {
      for (String path : inputs.toolInputs()) {
        toolDigests.put(path, inputs.files().get(path).toString());
      }
    } else {
      // A tool the configuration defines is the worker's own: no input names it.
      boolean ownCommand = defined == null || defined.command().isEmpty();
      for (String path :
          ownCommand ? recognized.commandLine().toolFileCandidates() : Set.<String>of()) {
        Digest digest = inputs.files().get(path);
        if (digest != null) {
          toolDigests.put(path, digest.toString());
        }
      }
    }
    return new ToolKey(
        recognized.clientKey(),
        recognized.tool(),
        startup,
        environment,
        recognized.protocol(),
        recognized.multiplex(),
        recognized.cancellable(),
        toolDigests);
  }

  private ActionOutcome request(
      ExecutionTask task,
      Recognized recognized,
      ToolKey key,
      InputFiles inputs,
      Lease lease,
      ExecRoots roots,
      ContentAddressableStorage cas,
      Cancellation cancellation,
      ExecutedActionMetadata.Builder metadata) {
    Command command = task.command();
    int requestId = lease.requestId();
    String sandbox = key.multiplex() ? SANDBOXES + "/" + requestId : "";
    Path directory =
        key.multiplex() ? lease.processDirectory().resolve(sandbox) : lease.processDirectory();
    // A multiplex request's sandbox is its own, deleted after it; a singleplex process's directory
    // stays for the next request, which syncs it again.
    roots.sync(inputs, directory, key.multiplex() ? Set.of() : Set.of(SANDBOXES));
    try (ExecRoot root =
        key.multiplex() ? ExecRoot.adopt(directory) : ExecRoot.existing(directory)) {
      root.createOutputDirectories(command);
      actionUser.ifPresent(user -> root.handOver(user.user(), user.group()));
      metadata.setInputFetchCompletedTimestamp(now.get());
      WorkRequest.Builder request =
          WorkRequest.newBuilder()
              .addAllArguments(
                  recognized.commandLine().requestArguments(root.workingDirectory(command)))
              .setRequestId(requestId)
              .setSandboxDir(sandbox);
      inputs
          .files()
          .forEach(
              (path, digest) ->
                  request.addInputs(
                      Input.newBuilder()
                          .setPath(path)
                          .setDigest(ByteString.copyFrom(digest.hash(), StandardCharsets.UTF_8))));

      metadata.setExecutionStartTimestamp(now.get());
      Ending ending = send(lease, request.build(), task.timeout(), cancellation, key);
      metadata.setExecutionCompletedTimestamp(now.get());

      metadata.setOutputUploadStartTimestamp(now.get());
      ActionResult.Builder result =
          ActionResult.newBuilder()
              .setExitCode(ending.response() == null ? -1 : ending.response().getExitCode());
      root.collectOutputs(command, cas, result);
      String output = ending.response() == null ? "" : ending.response().getOutput();
      result.setStderrDigest(upload(cas, output).toProto());
      result.setStdoutDigest(Digest.EMPTY.toProto());
      metadata.setOutputUploadCompletedTimestamp(now.get());
      // Which process ran it, and whether it had served a request before (warm), for the web UI;
      // clients that do not know the message ignore it.
      metadata.addAuxiliaryMetadata(
          Any.pack(
              PersistentWorkerRun.newBuilder()
                  .setPid(lease.process().pid())
                  .setRequestNumber(lease.requestNumber())
                  .build()));
      result.setExecutionMetadata(metadata.setWorkerCompletedTimestamp(now.get()));
      if (ending.response() != null) {
        // It answered, also a cancelled request: the process is fine for the next one.
        lease.release();
      } else {
        lease.retire(
            RetirementReason.CANCELLED,
            ending.how() == How.TIMED_OUT
                ? "its request timed out and the tool cannot cancel"
                : "its request was cancelled and the tool cannot cancel");
      }
      if (ending.how() == How.ANSWERED) {
        return ActionOutcome.completed(result.build());
      }
      return ending.how() == How.TIMED_OUT
          ? new ActionOutcome(
              result.build(),
              StatusCode.DEADLINE_EXCEEDED,
              "the persistent worker request exceeded the action's timeout of "
                  + Durations.format(task.timeout())
                  + " and was stopped")
          : new ActionOutcome(
              result.build(),
              StatusCode.CANCELLED,
              "the action was cancelled and its persistent worker request stopped");
    }
  }

  private enum How {
    ANSWERED,
    TIMED_OUT,
    CANCELLED
  }

  private record Ending(How how, WorkResponse response) {}

  private Ending send(
      Lease lease, WorkRequest request, Duration timeout, Cancellation cancellation, ToolKey key) {
    CompletableFuture<Void> cancelled = new CompletableFuture<>();
    cancellation.onCancel(() -> cancelled.complete(null));
    CompletableFuture<WorkResponse> response = lease.process().send(request);
    How how;
    try {
      CompletableFuture.anyOf(response, cancelled)
          .get(Durations.toNanosSaturated(timeout), TimeUnit.NANOSECONDS);
      how = response.isDone() ? How.ANSWERED : How.CANCELLED;
    } catch (TimeoutException e) {
      how = response.isDone() ? How.ANSWERED : How.TIMED_OUT;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      lease.process().kill();
      throw new HearthException(
          StatusCode.CANCELLED, "the worker was interrupted while a persistent worker ran");
    } catch (ExecutionException e) {
      how = How.ANSWERED;
    }
    if (how == How.ANSWERED) {
      return new Ending(how, join(response));
    }
    if (key.cancellable()) {
      lease.process().cancel(request.getRequestId());
      try {
        WorkResponse answer = response.get(CANCEL_PATIENCE.toNanos(), TimeUnit.NANOSECONDS);
        return new Ending(how, answer);
      } catch (TimeoutException | ExecutionException e) {
        log.warn(
            "Worker {}: persistent worker {} (pid {}) did not answer cancel=true within {};"
                + " killing it",
            workerName,
            key,
            lease.process().pid(),
            Durations.format(CANCEL_PATIENCE));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    lease.process().kill();
    return new Ending(how, null);
  }

  private static WorkResponse join(CompletableFuture<WorkResponse> response) {
    try {
      return response.get();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof ToolProcessException failure) {
        throw failure;
      }
      throw HearthException.internal("the persistent worker request failed", e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new HearthException(StatusCode.CANCELLED, "interrupted");
    }
  }

  private ActionOutcome failed(
      ExecutedActionMetadata.Builder metadata,
      ToolProcessException first,
      ToolProcessException second) {
    ActionResult result =
        ActionResult.newBuilder()
            .setExitCode(-1)
            .setExecutionMetadata(metadata.setWorkerCompletedTimestamp(now.get()))
            .build();
    String message =
        "the persistent worker failed the request twice, on two processes. Last failure: "
            + second.getMessage()
            + (first.getMessage().equals(second.getMessage())
                ? ""
                : "\nFirst failure: " + first.getMessage());
    return new ActionOutcome(result, StatusCode.INTERNAL, message);
  }

  private static Digest upload(ContentAddressableStorage cas, String text) {
    if (text.isEmpty()) {
      return Digest.EMPTY;
    }
    return cas.put(ByteString.copyFromUtf8(text));
  }

  /**
   * A lease on a process of {@code key}. A process the pool starts for it begins in a directory
   * that already holds this action's inputs, its tool files among them: the pool calls the {@link
   * ToolStarter} on this thread, which is how it learns the inputs.
   */
  private Lease acquire(
      ToolKey key,
      ExecRoots roots,
      InputFiles inputs,
      ExecutionTask task,
      Cancellation cancellation) {
    starter.seed(new ToolStarter.Seed(roots, inputs));
    try {
      return pool.acquire(key, task.timeout(), cancellation);
    } catch (ToolProcessException e) {
      // The tool could not even be started (a missing or unrunnable program): like an ordinary
      // action's program that cannot start, a failure to set up the action, not worth a retry.
      throw HearthException.failedPrecondition(
          "cannot start the persistent worker for key %s: %s", key.clientKey(), e.getMessage());
    } finally {
      starter.seed(null);
    }
  }
}
