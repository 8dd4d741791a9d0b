/**
 * The scheduler: a priority queue of actions matched against the platform properties of connected
 * workers, transport-agnostic so that the execution service, in-process workers and workers behind
 * the gRPC worker API all drive it the same way. Entered through {@link
 * build.hearth.core.scheduler.Scheduler#newBuilder()}; callers submit an {@link
 * build.hearth.core.scheduler.ActionRequest} and wait on its {@link
 * build.hearth.core.scheduler.Ticket}, workers {@link build.hearth.core.scheduler.Scheduler#connect
 * connect} with a {@link build.hearth.spi.worker.WorkerSpec} and a {@link
 * build.hearth.core.scheduler.WorkerListener} and answer each {@link
 * build.hearth.core.scheduler.Assignment}. A {@link build.hearth.core.scheduler.WorkerScorer}, such
 * as {@link build.hearth.core.scheduler.WarmWorkers} for persistent-worker actions, ranks the
 * workers that could run an action. The queue itself lives in package-private classes.
 */
package build.hearth.core.scheduler;
