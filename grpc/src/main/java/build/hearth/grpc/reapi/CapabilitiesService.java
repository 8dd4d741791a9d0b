package build.hearth.grpc.reapi;

import build.bazel.remote.execution.v2.ActionCacheUpdateCapabilities;
import build.bazel.remote.execution.v2.CacheCapabilities;
import build.bazel.remote.execution.v2.CapabilitiesGrpc;
import build.bazel.remote.execution.v2.DigestFunction;
import build.bazel.remote.execution.v2.ExecutionCapabilities;
import build.bazel.remote.execution.v2.GetCapabilitiesRequest;
import build.bazel.remote.execution.v2.PriorityCapabilities;
import build.bazel.remote.execution.v2.ServerCapabilities;
import build.bazel.remote.execution.v2.SymlinkAbsolutePathStrategy;
import build.bazel.semver.SemVer;
import build.hearth.grpc.common.Instances;
import build.hearth.grpc.common.Rpc;
import build.hearth.spi.transport.InstanceServices;
import io.grpc.stub.StreamObserver;

/**
 * What an instance offers. The API range starts at 2.0, which Bazel 4 requires, and ends at 2.2:
 * the 2.1 and 2.2 additions that concern a cache (digest_function fields, which this server checks,
 * and stored results taken verbatim) are honoured, while 2.3 chiefly changes execution ({@code
 * output_directory_format}, root directory digests of outputs), which is not offered yet. Execution
 * is advertised for the instances that have it.
 */
public final class CapabilitiesService extends CapabilitiesGrpc.CapabilitiesImplBase {
  static final SemVer LOW_API_VERSION = SemVer.newBuilder().setMajor(2).setMinor(0).build();
  static final SemVer HIGH_API_VERSION = SemVer.newBuilder().setMajor(2).setMinor(2).build();

  private final Instances instances;
  private final long maxBatchSizeBytes;

  /**
   * Describes {@code instances}.
   *
   * @param instances the server's instances
   * @param maxBatchSizeBytes the {@code max_batch_total_size_bytes} to advertise
   */
  public CapabilitiesService(Instances instances, long maxBatchSizeBytes) {
    this.instances = instances;
    this.maxBatchSizeBytes = maxBatchSizeBytes;
  }

  @Override
  public void getCapabilities(
      GetCapabilitiesRequest request, StreamObserver<ServerCapabilities> out) {
    Rpc.unary(out, () -> capabilities(instances.require(request.getInstanceName())));
  }

  private ServerCapabilities capabilities(InstanceServices instance) {
    boolean updates = instance.actionCache().isPresent() && instance.actionCacheUpdates();
    return ServerCapabilities.newBuilder()
        .setCacheCapabilities(
            CacheCapabilities.newBuilder()
                .addDigestFunctions(DigestFunction.Value.SHA256)
                .setActionCacheUpdateCapabilities(
                    ActionCacheUpdateCapabilities.newBuilder().setUpdateEnabled(updates))
                .setMaxBatchTotalSizeBytes(maxBatchSizeBytes)
                // Results are stored and returned verbatim, so absolute symlink targets that a
                // client uploads are kept as they are.
                .setSymlinkAbsolutePathStrategy(SymlinkAbsolutePathStrategy.Value.ALLOWED))
        .setExecutionCapabilities(execution(instance))
        .setLowApiVersion(LOW_API_VERSION)
        .setHighApiVersion(HIGH_API_VERSION)
        .build();
  }

  private static ExecutionCapabilities execution(InstanceServices instance) {
    ExecutionCapabilities.Builder execution =
        ExecutionCapabilities.newBuilder()
            .setDigestFunction(DigestFunction.Value.SHA256)
            .addDigestFunctions(DigestFunction.Value.SHA256)
            .setExecEnabled(instance.execution().isPresent());
    if (instance.execution().isPresent()) {
      // Lower numbers run sooner, 0 being the default; see ExecutionGrpcService for the clamping.
      execution.setExecutionPriorityCapabilities(
          PriorityCapabilities.newBuilder()
              .addPriorities(
                  PriorityCapabilities.PriorityRange.newBuilder()
                      .setMinPriority(ExecutionGrpcService.MIN_PRIORITY)
                      .setMaxPriority(ExecutionGrpcService.MAX_PRIORITY)));
    }
    return execution.build();
  }
}
