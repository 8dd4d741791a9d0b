package build.hearth.web;

import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.ExecuteResponse;
import build.hearth.api.Digest;
import build.hearth.core.execution.ExecutionListener;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * The recent executions of a server, kept in memory for the web UI, bounded by count and by bytes:
 * when either bound is passed, the oldest entries are forgotten first. Fed by the execution
 * services through {@link #listener}; read by the overview (newest first) and the action page (by
 * instance and digest).
 *
 * <p>A successful execution is kept without its output lists, which the action cache holds; a
 * failure is kept whole, since the action cache never holds failures and its page would otherwise
 * have nothing to show. An entry counts its serialized size plus a fixed overhead against {@code
 * maxBytes}; a failure larger than a sixteenth of the bound is kept without its output lists and
 * inline logs, so one huge response cannot push out every other entry.
 *
 * <pre>{@code
 * RecentActions recent = RecentActions.create(10_000, 64L << 20, Clock.systemUTC());
 * builder.listener(recent.listener("", metrics.executionListener("")));
 * }</pre>
 *
 * <p>Thread-safe. Each method holds one lock for work bounded by the entries kept, never across
 * I/O.
 */
public final class RecentActions {
  /**
   * 10,000 actions: a few large builds' worth of history, and what issue 17 asks the pages to
   * render quickly with. Each successful entry takes about 0.5 KiB, so the count bound is usually
   * the one that holds.
   */
  public static final int DEFAULT_MAX_ACTIONS = 10_000;

  /**
   * 64 MiB: room for 10,000 entries of over 6 KiB each, which failures with long messages or many
   * outputs reach; a bound on the server's heap, not a target.
   */
  public static final long DEFAULT_MAX_BYTES = 64L << 20;

  /** The per-entry overhead counted beside the response's serialized size: objects and indexes. */
  static final long ENTRY_OVERHEAD_BYTES = 256;

  private final int maxActions;
  private final long maxBytes;
  private final Clock clock;
  private final Object lock = new Object();
  private final ArrayDeque<RecordedAction> entries = new ArrayDeque<>(); // oldest first
  private final Map<Key, RecordedAction> latest = new HashMap<>();
  private final Map<String, long[]> executions = new HashMap<>(); // instance -> {total, cached}
  private long bytes;

  private record Key(String instanceName, Digest actionDigest) {}

  private RecentActions(int maxActions, long maxBytes, Clock clock) {
    this.maxActions = maxActions;
    this.maxBytes = maxBytes;
    this.clock = clock;
  }

  /**
   * A recorder with the given bounds.
   *
   * @param maxActions the most entries kept, at least 1
   * @param maxBytes the most bytes the entries count, at least {@code 64 KiB}
   * @param clock dates the entries
   * @return an empty recorder
   * @throws IllegalArgumentException if a bound is too small
   */
  public static RecentActions create(int maxActions, long maxBytes, Clock clock) {
    if (maxActions < 1) {
      throw new IllegalArgumentException("maxActions must be at least 1, not " + maxActions);
    }
    if (maxBytes < 64 << 10) {
      throw new IllegalArgumentException("maxBytes must be at least 64 KiB, not " + maxBytes);
    }
    return new RecentActions(maxActions, maxBytes, Objects.requireNonNull(clock, "clock"));
  }

  /**
   * {@return a listener that records each execution of {@code instanceName}, then tells {@code
   * next}}
   *
   * @param instanceName the instance whose execution service the listener is given to
   * @param next the listener that heard these executions before, such as the metrics'
   */
  public ExecutionListener listener(String instanceName, ExecutionListener next) {
    Objects.requireNonNull(instanceName, "instanceName");
    Objects.requireNonNull(next, "next");
    return new ExecutionListener() {
      @Override
      public void executionCompleted(Digest actionDigest, ExecuteResponse response) {
        try {
          next.executionCompleted(actionDigest, response);
        } finally {
          record(instanceName, actionDigest, response);
        }
      }
    };
  }

  /**
   * Records one execution, forgetting the oldest entries beyond the bounds.
   *
   * @param instanceName the instance
   * @param actionDigest the action
   * @param response what its clients received
   */
  public void record(String instanceName, Digest actionDigest, ExecuteResponse response) {
    ExecuteResponse kept = retained(response);
    long size = ENTRY_OVERHEAD_BYTES + 2L * instanceName.length() + kept.getSerializedSize();
    RecordedAction entry =
        new RecordedAction(instanceName, actionDigest, clock.instant(), kept, size);
    synchronized (lock) {
      long[] counts = executions.computeIfAbsent(instanceName, n -> new long[2]);
      counts[0]++;
      if (response.getCachedResult()) {
        counts[1]++;
      }
      entries.addLast(entry);
      latest.put(new Key(instanceName, actionDigest), entry);
      bytes += size;
      while (entries.size() > maxActions || bytes > maxBytes) {
        RecordedAction oldest = entries.removeFirst();
        bytes -= oldest.retainedBytes();
        latest.remove(new Key(oldest.instanceName(), oldest.actionDigest()), oldest);
      }
    }
  }

  private ExecuteResponse retained(ExecuteResponse response) {
    boolean failed = response.getStatus().getCode() != 0 || response.getResult().getExitCode() != 0;
    if (failed && response.getSerializedSize() <= maxBytes / 16) {
      return response;
    }
    ActionResult result = response.getResult();
    ActionResult.Builder slim =
        ActionResult.newBuilder()
            .setExitCode(result.getExitCode())
            .setStdoutRaw(result.getStdoutRaw())
            .setStdoutDigest(result.getStdoutDigest())
            .setStderrRaw(result.getStderrRaw())
            .setStderrDigest(result.getStderrDigest())
            .setExecutionMetadata(result.getExecutionMetadata());
    ExecuteResponse.Builder kept = response.toBuilder().clearServerLogs().setResult(slim);
    if (kept.build().getSerializedSize() > maxBytes / 16) {
      kept.setResult(slim.clearStdoutRaw().clearStderrRaw()).getStatusBuilder().clearDetails();
      String message = kept.getMessage();
      if (message.length() > 4096) {
        kept.setMessage(message.substring(0, 4096) + " [cut]");
      }
    }
    return kept.build();
  }

  /**
   * {@return the newest entries first, at most {@code limit}, of the instances {@code visible}
   * accepts}
   *
   * @param limit the most entries returned
   * @param visible which instances the reader may see
   */
  public List<RecordedAction> newest(int limit, Predicate<String> visible) {
    List<RecordedAction> found = new ArrayList<>(Math.min(limit, 1024));
    synchronized (lock) {
      Iterator<RecordedAction> newestFirst = entries.descendingIterator();
      while (newestFirst.hasNext() && found.size() < limit) {
        RecordedAction entry = newestFirst.next();
        if (visible.test(entry.instanceName())) {
          found.add(entry);
        }
      }
    }
    return found;
  }

  /**
   * {@return the latest entry of an action in an instance, if it is still kept}
   *
   * @param instanceName the instance
   * @param actionDigest the action
   */
  public Optional<RecordedAction> find(String instanceName, Digest actionDigest) {
    synchronized (lock) {
      return Optional.ofNullable(latest.get(new Key(instanceName, actionDigest)));
    }
  }

  /**
   * {@return how many executions of {@code instanceName} completed since the start, and how many of
   * them the action cache answered: {@code {total, cached}}}
   *
   * @param instanceName the instance
   */
  public long[] executions(String instanceName) {
    synchronized (lock) {
      long[] counts = executions.get(instanceName);
      return counts == null ? new long[2] : counts.clone();
    }
  }

  /** {@return the entries kept now} */
  public int size() {
    synchronized (lock) {
      return entries.size();
    }
  }

  /** {@return the bytes the entries kept now count} */
  public long retainedBytes() {
    synchronized (lock) {
      return bytes;
    }
  }

  /** {@return the bound on the number of entries} */
  public int maxActions() {
    return maxActions;
  }

  /** {@return the bound on the bytes the entries count} */
  public long maxBytes() {
    return maxBytes;
  }
}
