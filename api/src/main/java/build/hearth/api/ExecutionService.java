package build.hearth.api;

import build.bazel.remote.execution.v2.ExecuteRequest;
import java.util.Optional;

/**
 * Runs actions remotely: REAPI's Execution service for one instance name, without the wire.
 *
 * <p>{@link #execute} looks the action up in the action cache (unless the request says {@code
 * skip_cache_lookup}), else joins an identical action already in flight, else queues it for a
 * worker. Each outcome is an {@link Execution} to follow until it completes. Results of commands
 * that exit 0 go to the action cache unless the action says {@code do_not_cache}.
 *
 * <pre>{@code
 * Execution execution = executions.execute(ExecuteRequest.newBuilder()
 *     .setActionDigest(actionDigest.toProto())
 *     .build());
 * ExecuteResponse response = execution.result().join();
 * }</pre>
 *
 * <p>Thread-safe. Arguments are never null.
 */
public interface ExecutionService {

  /**
   * Starts, joins or answers from the cache the action of {@code request}. The request's {@code
   * instance_name} is ignored: this service serves one instance. The checks and CAS reads run on
   * the caller's thread; the command runs on a worker.
   *
   * @param request the REAPI request: the action's digest, and optionally {@code skip_cache_lookup}
   *     and an execution policy
   * @return the execution to follow; already COMPLETED for a cache hit
   * @throws HearthException INVALID_ARGUMENT for a malformed digest, action or command, or a
   *     timeout over the maximum
   * @throws MissingBlobsException (FAILED_PRECONDITION) if the action, its command or its input
   *     root directory is not in the CAS; it lists them, and the client uploads them and tries
   *     again
   */
  Execution execute(ExecuteRequest request);

  /**
   * Starts, joins or answers from the cache the action {@code actionDigest} names, with no further
   * options; as {@link #execute(ExecuteRequest)}.
   *
   * <pre>{@code
   * ExecuteResponse response = executions.execute(cas.putMessage(action)).result().join();
   * }</pre>
   *
   * @param actionDigest the digest of an {@code Action} in the CAS
   * @return the execution to follow
   * @throws HearthException as {@link #execute(ExecuteRequest)}
   */
  default Execution execute(Digest actionDigest) {
    return execute(ExecuteRequest.newBuilder().setActionDigest(actionDigest.toProto()).build());
  }

  /**
   * Finds an execution by the name a client holds, as WaitExecution does.
   *
   * @param operationName an {@link Execution#name()}
   * @return the execution with this operation name, while it runs and for a while after it
   *     completed; empty for an unknown, foreign or expired name
   */
  Optional<Execution> find(String operationName);
}
