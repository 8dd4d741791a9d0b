package build.hearth.grpc.reapi;

import build.bazel.remote.execution.v2.ActionCacheGrpc;
import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.GetActionResultRequest;
import build.bazel.remote.execution.v2.OutputDirectory;
import build.bazel.remote.execution.v2.OutputFile;
import build.bazel.remote.execution.v2.UpdateActionResultRequest;
import build.hearth.api.ActionCache;
import build.hearth.api.ContentAddressableStorage;
import build.hearth.api.Digest;
import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import build.hearth.grpc.common.Instances;
import build.hearth.grpc.common.Rpc;
import build.hearth.spi.transport.InstanceServices;
import com.google.protobuf.ByteString;
import io.grpc.stub.StreamObserver;
import java.util.HashSet;
import java.util.Set;

/**
 * The REAPI ActionCache service. A miss is NOT_FOUND, as REAPI specifies; the core already turns a
 * result whose blobs have left the CAS into a miss. Small outputs are inlined when asked, up to a
 * budget that keeps the response far below the clients' default 4 MiB message limit.
 */
public final class ActionCacheService extends ActionCacheGrpc.ActionCacheImplBase {
  static final long INLINE_BUDGET_BYTES = 1L << 20;

  private final Instances instances;

  /**
   * Serves the action caches of {@code instances}.
   *
   * @param instances the server's instances
   */
  public ActionCacheService(Instances instances) {
    this.instances = instances;
  }

  @Override
  public void getActionResult(GetActionResultRequest request, StreamObserver<ActionResult> out) {
    Rpc.unary(out, () -> get(request));
  }

  private ActionResult get(GetActionResultRequest request) {
    InstanceServices instance = instances.require(request.getInstanceName());
    ActionCache cache = Instances.actionCache(instance);
    Requests.checkDigestFunction(request.getDigestFunction());
    Digest action = Requests.digest(request.getActionDigest(), "action_digest");
    ActionResult result =
        cache
            .get(action)
            .orElseThrow(() -> HearthException.notFound("no cached result for action %s", action));
    return inline(result, request, instance.cas());
  }

  /** Fills in the contents the client asked for, as long as the budget lasts. */
  private static ActionResult inline(
      ActionResult result, GetActionResultRequest request, ContentAddressableStorage cas) {
    if (!request.getInlineStdout()
        && !request.getInlineStderr()
        && request.getInlineOutputFilesCount() == 0) {
      return result;
    }
    ActionResult.Builder inlined = result.toBuilder();
    long[] budget = {INLINE_BUDGET_BYTES};
    if (request.getInlineStdout() && result.hasStdoutDigest() && result.getStdoutRaw().isEmpty()) {
      ByteString data = fetch(cas, result.getStdoutDigest(), budget);
      if (data != null) {
        inlined.setStdoutRaw(data);
      }
    }
    if (request.getInlineStderr() && result.hasStderrDigest() && result.getStderrRaw().isEmpty()) {
      ByteString data = fetch(cas, result.getStderrDigest(), budget);
      if (data != null) {
        inlined.setStderrRaw(data);
      }
    }
    if (request.getInlineOutputFilesCount() > 0) {
      Set<String> wanted = new HashSet<>(request.getInlineOutputFilesList());
      for (int i = 0; i < result.getOutputFilesCount(); i++) {
        OutputFile file = result.getOutputFiles(i);
        if (wanted.contains(file.getPath()) && file.getContents().isEmpty()) {
          ByteString data = fetch(cas, file.getDigest(), budget);
          if (data != null) {
            inlined.setOutputFiles(i, file.toBuilder().setContents(data));
          }
        }
      }
    }
    return inlined.build();
  }

  /** The blob if it fits the remaining budget and is still readable, else null (not inlined). */
  private static ByteString fetch(
      ContentAddressableStorage cas, build.bazel.remote.execution.v2.Digest proto, long[] budget) {
    if (proto.getSizeBytes() > budget[0]) {
      return null;
    }
    try {
      ByteString data = cas.get(Digest.fromProto(proto));
      budget[0] -= data.size();
      return data;
    } catch (HearthException e) {
      // Inlining is a hint; the client can still fetch the blob by its digest.
      return null;
    }
  }

  @Override
  public void updateActionResult(
      UpdateActionResultRequest request, StreamObserver<ActionResult> out) {
    Rpc.unary(out, () -> update(request));
  }

  private ActionResult update(UpdateActionResultRequest request) {
    InstanceServices instance = instances.require(request.getInstanceName());
    ActionCache cache = Instances.actionCache(instance);
    if (!instance.actionCacheUpdates()) {
      throw new HearthException(
          StatusCode.PERMISSION_DENIED,
          "instance \""
              + instance.name()
              + "\" does not accept action-cache updates (actionCacheUpdates is false in its"
              + " configuration); drop --remote_upload_local_results or enable updates");
    }
    Requests.checkDigestFunction(request.getDigestFunction());
    Digest action = Requests.digest(request.getActionDigest(), "action_digest");
    ActionResult result = request.getActionResult();
    checkDigests(result);
    cache.put(action, result);
    return result;
  }

  /** Names the first malformed digest of {@code result} by its field path. */
  private static void checkDigests(ActionResult result) {
    for (int i = 0; i < result.getOutputFilesCount(); i++) {
      Requests.digest(
          result.getOutputFiles(i).getDigest(), "action_result.output_files[" + i + "].digest");
    }
    for (int i = 0; i < result.getOutputDirectoriesCount(); i++) {
      OutputDirectory directory = result.getOutputDirectories(i);
      // Either may be missing (TREE_ONLY or DIRECTORY_ONLY, REAPI's output_directory_format),
      // not both.
      if (!directory.hasTreeDigest() && !directory.hasRootDirectoryDigest()) {
        throw HearthException.invalidArgument(
            "action_result.output_directories[%d] has neither a tree_digest nor a"
                + " root_directory_digest",
            i);
      }
      if (directory.hasTreeDigest()) {
        Requests.digest(
            directory.getTreeDigest(), "action_result.output_directories[" + i + "].tree_digest");
      }
      if (directory.hasRootDirectoryDigest()) {
        Requests.digest(
            directory.getRootDirectoryDigest(),
            "action_result.output_directories[" + i + "].root_directory_digest");
      }
    }
    if (result.hasStdoutDigest()) {
      Requests.digest(result.getStdoutDigest(), "action_result.stdout_digest");
    }
    if (result.hasStderrDigest()) {
      Requests.digest(result.getStderrDigest(), "action_result.stderr_digest");
    }
  }
}
