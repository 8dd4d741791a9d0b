package build.hearth.core.persistent;

import java.nio.file.Path;

/**
 * Starts persistent worker processes for a {@link ToolPool}. The pool calls it without holding its
 * lock, on the thread of the {@link ToolPool#acquire acquire} call that needs the process, so an
 * implementation may block while the process starts.
 *
 * <p>Implementations must be thread-safe: processes of different keys start at the same time.
 */
@FunctionalInterface
public interface ProcessFactory {

  /**
   * Starts a process for {@code key} with {@code processDirectory} as its working directory. The
   * pool has created that directory, empty, and deletes it after the process ended; the caller of
   * {@code acquire} fills it with the action's inputs before each request.
   *
   * @throws ToolProcessException of kind {@link ToolProcessException.Kind#START_FAILED} when the
   *     process cannot be started; the pool frees the slot it had reserved and passes the exception
   *     on to the caller of {@code acquire}
   */
  ToolProcess start(ToolKey key, Path processDirectory);
}
