package build.hearth.server;

import build.hearth.core.config.WorkerConfig;
import build.hearth.grpc.WorkerAgent;
import build.hearth.spi.storage.StoreProviderRegistry;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code hearth worker}: runs actions for a scheduler on another machine (or this one). */
@Command(
    name = "worker",
    mixinStandardHelpOptions = true,
    description = {
      "Connects to a Hearth scheduler and runs the actions it assigns, until stopped (SIGTERM or"
          + " Ctrl-C). Reconnects with back-off when the scheduler restarts.",
      "Inputs are fetched from the scheduler's CAS into a local cache and hard-linked into each"
          + " action's directory; outputs are uploaded back."
    })
final class WorkerCommand implements Callable<Integer> {
  @Option(
      names = "--scheduler-endpoint",
      required = true,
      paramLabel = "URL",
      description = "The server whose worker API to join, such as http://localhost:50052.")
  String endpoint;

  @Option(
      names = "--config",
      paramLabel = "FILE",
      description =
          "A worker JSON file (name, slots, properties, workDirectory, cache); see"
              + " docs/configuration.md. Every field is optional.")
  Path config;

  @Override
  public Integer call() throws InterruptedException {
    WorkerConfig worker =
        config == null
            ? WorkerConfig.parseStandalone("{}", "(defaults)")
            : WorkerConfig.loadStandalone(config);
    StoreProviderRegistry registry =
        StoreProviderRegistry.discover(WorkerCommand.class.getClassLoader());
    AtomicReference<WorkerAgent> self = new AtomicReference<>();
    AtomicReference<WorkerRuntime> started = new AtomicReference<>();
    WorkerAgent agent =
        WorkerAgent.newBuilder()
            .endpoint(endpoint)
            .name(worker.name())
            .slots(worker.slots())
            .properties(worker.properties())
            .runner(
                casForInstance -> {
                  WorkerRuntime runtime = WorkerRuntime.open(worker, registry, casForInstance);
                  // The scheduler routes actions of a key to workers with idle warm processes.
                  runtime.onWarmProcessesChanged(idle -> self.get().reportWarmProcesses(idle));
                  started.set(runtime);
                  return runtime;
                })
            // The server's metrics and `hearth admin worker-stats` show this worker's pool.
            .statusSupplier(
                () -> {
                  WorkerRuntime runtime = started.get();
                  return runtime == null ? Optional.empty() : runtime.persistentWorkerStats();
                })
            .build();
    self.set(agent);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  agent.close();
                  stopped.countDown();
                },
                "hearth-worker-shutdown"));
    agent.start();
    stopped.await();
    return 0;
  }
}
