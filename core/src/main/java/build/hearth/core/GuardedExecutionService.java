package build.hearth.core;

import build.bazel.remote.execution.v2.ExecuteRequest;
import build.hearth.api.Execution;
import build.hearth.api.ExecutionService;
import java.util.Optional;

/**
 * {@link Hearth#execution()}: the in-process execution service, refusing new executions and
 * look-ups once closed. Executions already handed out keep their futures, which close completes.
 */
final class GuardedExecutionService implements ExecutionService {
  private final ExecutionService service;
  private final Lifecycle lifecycle;

  GuardedExecutionService(ExecutionService service, Lifecycle lifecycle) {
    this.service = service;
    this.lifecycle = lifecycle;
  }

  @Override
  public Execution execute(ExecuteRequest request) {
    lifecycle.checkOpen();
    return service.execute(request);
  }

  @Override
  public Optional<Execution> find(String operationName) {
    lifecycle.checkOpen();
    return service.find(operationName);
  }

  @Override
  public String toString() {
    return "execution service of Hearth '" + lifecycle.name() + "'";
  }
}
