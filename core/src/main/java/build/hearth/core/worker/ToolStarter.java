package build.hearth.core.worker;

import build.hearth.api.HearthException;
import build.hearth.core.execroot.ExecRoot;
import build.hearth.core.execroot.ExecRoots;
import build.hearth.core.execroot.InputFiles;
import build.hearth.core.persistent.PipedToolProcess;
import build.hearth.core.persistent.ProcessFactory;
import build.hearth.core.persistent.ToolKey;
import build.hearth.core.persistent.ToolProcess;
import build.hearth.core.persistent.ToolProcessException;
import build.hearth.core.process.ProcessLauncher;
import build.hearth.core.sandbox.ActionUser;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts the pool's tool processes: fills the new process's directory with the inputs of the action
 * that needs it (so that the tool files its startup command names are there), resolves the program
 * as an ordinary action's, and starts it with exactly the action's environment and its stderr in a
 * log file of its own.
 *
 * <p>The pool calls {@link #start} on the thread of the acquire that needs the process; that thread
 * has {@link #seed seeded} this starter with its action's inputs just before. The seed is per
 * thread and per starter, so runners in one JVM do not see each other's.
 *
 * <p>Thread-safe.
 */
final class ToolStarter implements ProcessFactory {
  private static final Logger log = LoggerFactory.getLogger(ToolStarter.class);

  /** How many stderr logs of ended processes are kept for operators to read. */
  static final int KEPT_LOGS = 200;

  /** The inputs of the action that asks for a process. */
  record Seed(ExecRoots roots, InputFiles inputs) {}

  private final Path logsDirectory;
  private final ProcessLauncher launcher;
  private final java.util.Optional<ActionUser> actionUser;
  private final ThreadLocal<Seed> seeds = new ThreadLocal<>();
  private final AtomicLong started = new AtomicLong();

  /**
   * @param launcher starts the processes: the runner's own launcher, possibly wrapped in a sandbox
   * @param actionUser the user tool processes run as, when another than the worker's: the process
   *     directory is handed over to it after each sync
   */
  ToolStarter(
      Path logsDirectory, ProcessLauncher launcher, java.util.Optional<ActionUser> actionUser) {
    this.logsDirectory = logsDirectory;
    this.launcher = launcher;
    this.actionUser = actionUser;
  }

  /** Sets (or, with null, clears) the inputs of the action this thread is acquiring for. */
  void seed(Seed seed) {
    if (seed == null) {
      seeds.remove();
    } else {
      seeds.set(seed);
    }
  }

  @Override
  public ToolProcess start(ToolKey key, Path processDirectory) {
    Seed seed = seeds.get();
    if (seed == null) {
      throw new IllegalStateException("a tool process was asked for outside an action's acquire");
    }
    seed.roots().sync(seed.inputs(), processDirectory, Set.of());
    actionUser.ifPresent(
        user -> ExecRoot.existing(processDirectory).handOver(user.user(), user.group()));
    List<String> command = new ArrayList<>(key.startupArguments());
    Path program;
    try {
      program = ProgramResolver.resolve(command.get(0), key.environment(), processDirectory);
    } catch (HearthException e) {
      throw new ToolProcessException(
          ToolProcessException.Kind.START_FAILED,
          "cannot start the persistent worker of " + key + ": " + e.getMessage(),
          e);
    }
    command.set(0, program.toString());
    Path logFile =
        logsDirectory.resolve(key.shortFingerprint() + "-" + started.incrementAndGet() + ".log");
    pruneLogs();
    PipedToolProcess.Spec.Builder spec =
        PipedToolProcess.Spec.newBuilder()
            .command(command)
            .environment(key.environment())
            .workingDirectory(processDirectory)
            .logFile(logFile)
            .protocol(key.protocol())
            .multiplex(key.multiplex())
            .launcher(launcher);
    return PipedToolProcess.start(spec.build());
  }

  /**
   * Deletes the oldest logs beyond {@link #KEPT_LOGS}, so that a long-lived worker's disk stays
   * bounded.
   */
  private void pruneLogs() {
    List<Path> logs = new ArrayList<>();
    try (DirectoryStream<Path> files = Files.newDirectoryStream(logsDirectory, "*.log")) {
      files.forEach(logs::add);
    } catch (IOException e) {
      log.debug("Cannot list {}: {}", logsDirectory, e.toString());
      return;
    }
    if (logs.size() < KEPT_LOGS) {
      return;
    }
    logs.sort(Comparator.comparing(ToolStarter::modified));
    for (Path old : logs.subList(0, logs.size() - KEPT_LOGS + 1)) {
      try {
        Files.deleteIfExists(old);
      } catch (IOException e) {
        log.debug("Cannot delete {}: {}", old, e.toString());
      }
    }
  }

  private static FileTime modified(Path file) {
    try {
      return Files.getLastModifiedTime(file);
    } catch (IOException e) {
      return FileTime.fromMillis(0);
    }
  }
}
