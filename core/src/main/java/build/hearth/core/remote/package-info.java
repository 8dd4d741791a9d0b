/**
 * The scheduler's side of workers that run in other processes: {@link
 * build.hearth.core.remote.SchedulerWorkerHub}, the {@link build.hearth.spi.worker.WorkerHub} a
 * transport's worker API joins workers to, and {@link build.hearth.core.remote.PoolStatsMessages},
 * the wire form of a worker's persistent-worker statistics, which both ends of the worker API use.
 */
package build.hearth.core.remote;
