package build.hearth.core.scheduler;

import java.time.Duration;

/**
 * Hears what a {@link Scheduler} does with actions, for metrics and logs; given with {@link
 * SchedulerBuilder#listener}. Every method does nothing by default, so a listener overrides only
 * what it needs and new events never break it.
 *
 * <p>Calls are made after the scheduler's lock is released, on the thread that caused the event,
 * possibly on several threads at once: implementations must be thread-safe and quick. An exception
 * thrown by a method is logged and otherwise ignored.
 */
public abstract class SchedulerListener {

  /** A listener that hears nothing. */
  public static final SchedulerListener NONE = new SchedulerListener() {};

  protected SchedulerListener() {}

  /**
   * An action was assigned to a worker.
   *
   * @param actionName the action's {@link ActionRequest#name()}
   * @param workerName the name of the worker it went to
   * @param queued how long it waited in the queue this time: since it was submitted, or since it
   *     was queued again after losing its worker
   */
  public void actionStarted(String actionName, String workerName, Duration queued) {}
}
