/**
 * The scheduler's shared state: the queue, the claims workers hold, the executions with their
 * results, the operations that name them, and the worker registry, behind {@link
 * build.hearth.spi.scheduler.SchedulerState}, so that several Hearth servers can be one service.
 *
 * <p>What lives here is facts, never connections: a worker's stream, a client's watch and the
 * futures that complete them stay in the server that holds them. Every state transition is one
 * atomic step of the state (one Lua script in Redis, one critical section in memory), and retrying
 * a transition is harmless, so a server that dies between two steps leaves nothing half-done.
 * Values are opaque bytes to the state (the task a worker receives, the response a client reads),
 * so an implementation never parses REAPI messages.
 *
 * <p>Implementations are plugins: a {@link build.hearth.spi.scheduler.SchedulerStateProvider} of a
 * {@code type} ({@code memory} is built in, {@code redis} comes with {@code hearth-redis}), found
 * through {@link java.util.ServiceLoader}. {@code hearth-testing}'s {@code
 * SchedulerStateContractTest} is the conformance suite every implementation passes.
 */
package build.hearth.spi.scheduler;
