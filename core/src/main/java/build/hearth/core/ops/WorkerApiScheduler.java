package build.hearth.core.ops;

import java.util.Objects;

/**
 * The name of the scheduler that a transport's worker API connects remote workers to. A host offers
 * it to the transport beside {@link WorkerReports} (see {@code TransportContext.Builder.service}),
 * so that the reports of remote workers name their scheduler as those of in-process workers do;
 * without it the transport names the server instead.
 *
 * @param name the scheduler's name in the configuration
 */
public record WorkerApiScheduler(String name) {
  public WorkerApiScheduler {
    Objects.requireNonNull(name, "name");
  }
}
