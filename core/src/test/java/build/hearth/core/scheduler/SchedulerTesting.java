package build.hearth.core.scheduler;

import static org.assertj.core.api.Assertions.assertThat;

import build.hearth.api.HearthException;
import build.hearth.spi.worker.WorkerSpec;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;

/** Helpers shared by the scheduler tests. */
final class SchedulerTesting {
  private SchedulerTesting() {}

  static ActionRequest<String> action(String name, String... namesAndValues) {
    return ActionRequest.of(name, Platforms.platform(namesAndValues), name);
  }

  /** A builder whose listener calls run on the calling thread and whose expiry is manual. */
  static SchedulerBuilder deterministic(Clock clock) {
    return Scheduler.newBuilder()
        .callbackExecutor(Runnable::run)
        .expiryCheckInterval(Duration.ZERO)
        .clock(clock)
        .ticker(() -> clock.millis() * 1_000_000L)
        .propertyType("OSFamily", PropertyType.EXACT)
        .propertyType("capability", PropertyType.EXACT)
        .propertyType("cpu_count", PropertyType.MINIMUM)
        .propertyType("pool", PropertyType.PRIORITY)
        .propertyType("container", PropertyType.IGNORE);
  }

  /** The error a ticket failed with; fails the test if it has not failed. */
  static HearthException failure(Ticket<?> ticket) {
    assertThat(ticket.result()).isCompletedExceptionally();
    try {
      ticket.result().join();
    } catch (CompletionException e) {
      assertThat(e.getCause()).isInstanceOf(HearthException.class);
      return (HearthException) e.getCause();
    }
    throw new AssertionError("unreachable");
  }

  /** A worker that records what it is told and answers only when the test says so. */
  static final class FakeWorker implements WorkerListener<String, String> {
    final List<Assignment<String, String>> assigned = new CopyOnWriteArrayList<>();
    final List<Assignment<String, String>> cancelled = new CopyOnWriteArrayList<>();
    WorkerSession session;

    static FakeWorker connect(Scheduler<String, String> scheduler, WorkerSpec spec) {
      FakeWorker worker = new FakeWorker();
      worker.session = scheduler.connect(spec, worker);
      return worker;
    }

    @Override
    public void assign(Assignment<String, String> assignment) {
      assigned.add(assignment);
    }

    @Override
    public void cancel(Assignment<String, String> assignment) {
      cancelled.add(assignment);
    }

    /** Names of the actions assigned so far, in order. */
    List<String> names() {
      List<String> names = new ArrayList<>();
      for (Assignment<String, String> assignment : assigned) {
        names.add(assignment.request().name());
      }
      return names;
    }

    /** The assignment of action {@code name}; the latest if there are several. */
    Assignment<String, String> get(String name) {
      for (int i = assigned.size() - 1; i >= 0; i--) {
        if (assigned.get(i).request().name().equals(name)) {
          return assigned.get(i);
        }
      }
      throw new AssertionError("no assignment of '" + name + "' in " + names());
    }

    /** Completes action {@code name} with the result {@code name + "-done"}. */
    boolean finish(String name) {
      return get(name).complete(name + "-done");
    }
  }
}
