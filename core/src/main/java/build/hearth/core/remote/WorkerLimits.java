package build.hearth.core.remote;

import build.hearth.api.HearthException;
import build.hearth.core.scheduler.PlatformLexicon;
import build.hearth.proto.workerapi.PersistentKeyStats;
import build.hearth.proto.workerapi.PersistentPoolStats;
import build.hearth.proto.workerapi.SandboxRefusal;
import build.hearth.proto.workerapi.SandboxReport;
import build.hearth.spi.worker.WorkerSpec;
import java.util.Collection;
import java.util.Map;
import java.util.Set;

/**
 * The bounds on what a worker in another process may declare: its registration (name, slots,
 * platform properties) and its reports (warm persistent-worker keys, pool statistics). A worker is
 * a client of the server like any other, so everything it declares is bounded before the scheduler
 * keeps it; a declaration over a bound is refused with INVALID_ARGUMENT naming the field and the
 * limit, and the server keeps serving other workers.
 *
 * <p>The platform bounds are those of actions ({@link PlatformLexicon#MAX_PROPERTIES} and its
 * siblings), so a worker cannot offer what no action could ask for. Stateless and thread-safe.
 */
public final class WorkerLimits {
  /**
   * The most slots one worker may declare. Far more than any machine runs at once; a larger number
   * is a typo or a worker that wants to hoard the queue.
   */
  public static final int MAX_SLOTS = 1024;

  /** The longest worker name, in characters; names appear in every log line about a worker. */
  public static final int MAX_NAME_LENGTH = 256;

  /** The most persistent-worker keys one warm-process report or pool statistics may list. */
  public static final int MAX_PERSISTENT_KEYS = 1024;

  /** The most persistent-worker processes one pool statistics report may list, over all keys. */
  public static final int MAX_PERSISTENT_PROCESSES = 4096;

  /** The longest persistent-worker key (a platform property value), in characters. */
  public static final int MAX_KEY_LENGTH = PlatformLexicon.MAX_VALUE_LENGTH;

  /**
   * The longest assignment id a re-attaching worker may name as still running, in characters; the
   * ids a server gives are execution ids (UUIDs) or shorter.
   */
  public static final int MAX_ASSIGNMENT_ID_LENGTH = 256;

  private WorkerLimits() {}

  /**
   * Checks the assignment ids a re-attaching worker says it still runs: no more than its slots,
   * since it cannot run more at once, and none empty or longer than {@link
   * #MAX_ASSIGNMENT_ID_LENGTH}.
   *
   * @throws HearthException INVALID_ARGUMENT naming the bound the worker broke
   */
  public static void checkRunning(WorkerSpec spec, Collection<String> running) {
    if (running.size() > spec.slots()) {
      throw HearthException.invalidArgument(
          "worker '%s' re-attached saying it still runs %d actions, more than its %d slots",
          spec.name(), running.size(), spec.slots());
    }
    for (String id : running) {
      if (id.isEmpty() || id.length() > MAX_ASSIGNMENT_ID_LENGTH) {
        throw HearthException.invalidArgument(
            "worker '%s' re-attached naming an assignment id of %d characters; ids are 1 to %d"
                + " characters",
            spec.name(), id.length(), MAX_ASSIGNMENT_ID_LENGTH);
      }
    }
  }

  /**
   * Checks a worker's sandbox report.
   *
   * @throws HearthException INVALID_ARGUMENT if it lists more than {@link SandboxReports#MAX_PARTS}
   *     parts available or refused, or holds a text over {@link SandboxReports#MAX_TEXT_LENGTH}
   *     characters
   */
  static void checkSandbox(String worker, SandboxReport report) {
    if (report.getAvailableCount() > SandboxReports.MAX_PARTS
        || report.getRefusedCount() > SandboxReports.MAX_PARTS) {
      throw HearthException.invalidArgument(
          "the sandbox report of worker '%s' lists %d parts available and %d refused; at most %d"
              + " each are accepted",
          worker, report.getAvailableCount(), report.getRefusedCount(), SandboxReports.MAX_PARTS);
    }
    int longest =
        Math.max(
            Math.max(report.getMode().length(), report.getCgroups().length()),
            report.getActionUser().length());
    for (String part : report.getAvailableList()) {
      longest = Math.max(longest, part.length());
    }
    for (SandboxRefusal refusal : report.getRefusedList()) {
      longest =
          Math.max(longest, Math.max(refusal.getPart().length(), refusal.getReason().length()));
    }
    if (longest > SandboxReports.MAX_TEXT_LENGTH) {
      throw HearthException.invalidArgument(
          "the sandbox report of worker '%s' holds a text of %d characters; at most %d are"
              + " accepted",
          worker, longest, SandboxReports.MAX_TEXT_LENGTH);
    }
  }

  /**
   * Checks a worker's name before anything else reads or logs it.
   *
   * @throws HearthException INVALID_ARGUMENT if it is over {@link #MAX_NAME_LENGTH}
   */
  public static void checkName(String name) {
    if (name.length() > MAX_NAME_LENGTH) {
      throw HearthException.invalidArgument(
          "Register.name is %d characters long; at most %d are accepted (a worker named '%s...')",
          name.length(), MAX_NAME_LENGTH, name.substring(0, 32));
    }
  }

  /**
   * Checks a registration against the bounds.
   *
   * @throws HearthException INVALID_ARGUMENT naming the field and the limit of the first bound it
   *     exceeds
   */
  public static void check(WorkerSpec spec) {
    checkName(spec.name());
    if (spec.slots() > MAX_SLOTS) {
      throw HearthException.invalidArgument(
          "worker '%s' registered with %d slots (Register.slots); at most %d are accepted",
          spec.name(), spec.slots(), MAX_SLOTS);
    }
    int pairs = 0;
    for (Map.Entry<String, Set<String>> property : spec.properties().entrySet()) {
      String name = property.getKey();
      if (name.length() > PlatformLexicon.MAX_NAME_LENGTH) {
        throw HearthException.invalidArgument(
            "worker '%s' offers a platform property whose name is %d characters long"
                + " (Register.properties); at most %d are accepted",
            spec.name(), name.length(), PlatformLexicon.MAX_NAME_LENGTH);
      }
      for (String value : property.getValue()) {
        if (value.length() > PlatformLexicon.MAX_VALUE_LENGTH) {
          throw HearthException.invalidArgument(
              "worker '%s' offers a value of platform property '%s' that is %d characters long"
                  + " (Register.properties); at most %d are accepted",
              spec.name(), name, value.length(), PlatformLexicon.MAX_VALUE_LENGTH);
        }
      }
      pairs += property.getValue().size();
    }
    checkPropertyCount(spec.name(), pairs);
  }

  /**
   * Checks the number of platform properties (name and value pairs) a worker declares.
   *
   * @throws HearthException INVALID_ARGUMENT if it is over {@link PlatformLexicon#MAX_PROPERTIES}
   */
  public static void checkPropertyCount(String worker, int count) {
    if (count > PlatformLexicon.MAX_PROPERTIES) {
      throw HearthException.invalidArgument(
          "worker '%s' offers %d platform properties (Register.properties); at most %d are"
              + " accepted",
          worker, count, PlatformLexicon.MAX_PROPERTIES);
    }
  }

  /**
   * Checks a warm-process report.
   *
   * @throws HearthException INVALID_ARGUMENT if it lists more than {@link #MAX_PERSISTENT_KEYS}
   *     keys or a key longer than {@link #MAX_KEY_LENGTH}
   */
  public static void checkWarmProcesses(String worker, Map<String, Integer> idleByClientKey) {
    if (idleByClientKey.size() > MAX_PERSISTENT_KEYS) {
      throw HearthException.invalidArgument(
          "worker '%s' reported idle processes for %d persistent-worker keys"
              + " (WarmProcesses.keys); at most %d are accepted",
          worker, idleByClientKey.size(), MAX_PERSISTENT_KEYS);
    }
    for (String key : idleByClientKey.keySet()) {
      if (key.length() > MAX_KEY_LENGTH) {
        throw HearthException.invalidArgument(
            "worker '%s' reported a persistent-worker key of %d characters"
                + " (WarmProcesses.keys.client_key); at most %d are accepted",
            worker, key.length(), MAX_KEY_LENGTH);
      }
    }
  }

  /**
   * Checks a pool statistics report.
   *
   * @throws HearthException INVALID_ARGUMENT if it lists more than {@link #MAX_PERSISTENT_KEYS}
   *     keys or more than {@link #MAX_PERSISTENT_PROCESSES} processes
   */
  public static void checkPoolStats(String worker, PersistentPoolStats stats) {
    if (stats.getKeysCount() > MAX_PERSISTENT_KEYS) {
      throw HearthException.invalidArgument(
          "worker '%s' reported statistics of %d persistent-worker keys"
              + " (WorkerStatus.persistent_workers.keys); at most %d are accepted",
          worker, stats.getKeysCount(), MAX_PERSISTENT_KEYS);
    }
    long processes = 0;
    for (PersistentKeyStats key : stats.getKeysList()) {
      processes += key.getProcessesCount();
      if (key.getClientKey().length() > MAX_KEY_LENGTH) {
        throw HearthException.invalidArgument(
            "worker '%s' reported statistics of a persistent-worker key of %d characters"
                + " (WorkerStatus.persistent_workers.keys.client_key); at most %d are accepted",
            worker, key.getClientKey().length(), MAX_KEY_LENGTH);
      }
    }
    if (processes > MAX_PERSISTENT_PROCESSES) {
      throw HearthException.invalidArgument(
          "worker '%s' reported statistics of %d persistent-worker processes"
              + " (WorkerStatus.persistent_workers.keys.processes); at most %d are accepted",
          worker, processes, MAX_PERSISTENT_PROCESSES);
    }
  }
}
