package build.hearth.core.scheduler;

import java.util.List;
import java.util.Objects;

/**
 * What {@link Scheduler#reattach} answers: the worker's session, and the assignments it still ran
 * from its earlier connection that the scheduler took over. Those are not assigned to the worker
 * again; its answers to them count as to any other assignment of the session.
 *
 * @param session the worker's connection
 * @param adopted the assignments taken over, named by {@link ActionRequest#name()} as on the server
 *     the worker came from
 * @param <T> the task type
 * @param <R> the result type
 */
public record Reattached<T, R>(WorkerSession session, List<Assignment<T, R>> adopted) {
  /**
   * Checks the components; the list is copied.
   *
   * @param session the worker's connection
   * @param adopted the assignments taken over
   */
  public Reattached {
    Objects.requireNonNull(session, "session");
    adopted = List.copyOf(adopted);
  }
}
