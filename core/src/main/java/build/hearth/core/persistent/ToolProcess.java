package build.hearth.core.persistent;

import build.hearth.proto.worker.WorkRequest;
import build.hearth.proto.worker.WorkResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;

/**
 * One running persistent worker process, as the pool sees it: it takes requests and answers them
 * through the worker protocol, and can be measured and ended.
 *
 * <p>Thread-safe: requests of a multiplex process are sent from several threads at once.
 */
public interface ToolProcess {

  /** The operating system's process id. */
  long pid();

  /** Whether the process still runs and its stdout has not failed. */
  boolean isAlive();

  /**
   * Sends {@code request} and returns its response. A singleplex process gets one request at a time
   * with id 0; a multiplex process gets unique non-zero ids, many at once.
   *
   * <p>The future fails with {@link ToolProcessException} when the process writes something that is
   * not a response, ends before answering, or cannot be written to; the message holds the tail of
   * its stderr. After that the process is not usable, and every other pending request fails too.
   */
  CompletableFuture<WorkResponse> send(WorkRequest request);

  /**
   * Asks the process to cancel request {@code requestId} by sending it the same id with {@code
   * cancel=true}. The request's future still completes with the process's answer (normally {@code
   * was_cancelled=true}). Only for tools declared cancellable; others are {@link #kill killed}.
   */
  void cancel(int requestId);

  /**
   * The resident memory of the process and its descendants, read from the operating system ({@code
   * /proc/PID/status} on Linux), or empty where it cannot be read.
   */
  OptionalLong residentBytes();

  /** The last few kilobytes of the process's stderr, for error messages; may be empty. */
  String stderrTail();

  /** The file that keeps everything the process wrote on stderr. */
  Path logFile();

  /**
   * Ends the process gently: closes its stdin, waits up to {@code grace} for it to leave, then
   * sends SIGTERM, waits up to {@code grace} again, then kills it and its descendants with SIGKILL.
   * Pending requests fail. Blocks until it ended; idempotent.
   */
  void shutdown(Duration grace);

  /** Kills the process and its descendants with SIGKILL at once; pending requests fail. */
  void kill();
}
