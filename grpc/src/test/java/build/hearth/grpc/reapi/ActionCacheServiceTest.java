package build.hearth.grpc.reapi;

import static build.hearth.grpc.TestServer.assertStatus;
import static build.hearth.grpc.TestServer.bytes;
import static org.assertj.core.api.Assertions.assertThat;

import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.FileNode;
import build.bazel.remote.execution.v2.GetActionResultRequest;
import build.bazel.remote.execution.v2.OutputDirectory;
import build.bazel.remote.execution.v2.OutputFile;
import build.bazel.remote.execution.v2.UpdateActionResultRequest;
import build.hearth.api.Digest;
import build.hearth.grpc.TestServer;
import com.google.protobuf.ByteString;
import io.grpc.Status;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ActionCacheServiceTest {
  private TestServer server;

  @BeforeEach
  void start() {
    server = TestServer.start();
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private final Digest action = Digest.of(bytes("an action"));

  private ActionResult get(String instance, Digest digest) {
    return server
        .acStub()
        .getActionResult(
            GetActionResultRequest.newBuilder()
                .setInstanceName(instance)
                .setActionDigest(digest.toProto())
                .build());
  }

  private ActionResult update(String instance, Digest digest, ActionResult result) {
    return server
        .acStub()
        .updateActionResult(
            UpdateActionResultRequest.newBuilder()
                .setInstanceName(instance)
                .setActionDigest(digest.toProto())
                .setActionResult(result)
                .build());
  }

  /** A result whose output and stdout are in the CAS. */
  private ActionResult storedResult() {
    Digest out = server.cas.put(bytes("output file"));
    Digest stdout = server.cas.put(bytes("hello from stdout"));
    return ActionResult.newBuilder()
        .setExitCode(0)
        .addOutputFiles(OutputFile.newBuilder().setPath("out/a.txt").setDigest(out.toProto()))
        .setStdoutDigest(stdout.toProto())
        .build();
  }

  @Test
  void missIsNotFound() {
    assertStatus(() -> get("", action), Status.Code.NOT_FOUND, action.toString());
  }

  @Test
  void updateThenGet() {
    ActionResult result = storedResult();
    assertThat(update("", action, result)).isEqualTo(result);
    assertThat(get("", action)).isEqualTo(result);
    // Instances that share the action cache see the result.
    assertThat(get("ci/linux", action)).isEqualTo(result);
  }

  @Test
  void aResultWhoseBlobIsGoneIsAMiss() {
    ActionResult result = storedResult();
    update("", action, result);

    server.blobs.hide(Digest.fromProto(result.getStdoutDigest()));

    assertStatus(() -> get("", action), Status.Code.NOT_FOUND, action.toString());
  }

  @Test
  void updateReferencingAMissingBlobIsFailedPrecondition() {
    Digest absent = Digest.of(bytes("never uploaded"));
    ActionResult result =
        ActionResult.newBuilder()
            .addOutputFiles(OutputFile.newBuilder().setPath("x").setDigest(absent.toProto()))
            .build();
    assertStatus(
        () -> update("", action, result),
        Status.Code.FAILED_PRECONDITION,
        absent.toString(),
        "upload the outputs");
    assertStatus(() -> get("", action), Status.Code.NOT_FOUND);
  }

  @Test
  void malformedDigestsAreNamedByField() {
    build.bazel.remote.execution.v2.Digest bad =
        build.bazel.remote.execution.v2.Digest.newBuilder().setHash("ABC").setSizeBytes(3).build();
    assertStatus(
        () ->
            server
                .acStub()
                .getActionResult(GetActionResultRequest.newBuilder().setActionDigest(bad).build()),
        Status.Code.INVALID_ARGUMENT,
        "action_digest",
        "'ABC'");
    ActionResult result =
        storedResult().toBuilder()
            .addOutputFiles(OutputFile.newBuilder().setPath("y").setDigest(bad))
            .build();
    assertStatus(
        () -> update("", action, result),
        Status.Code.INVALID_ARGUMENT,
        "action_result.output_files[1].digest");
    server.assertStillServing();
  }

  @Test
  void aDirectoryOnlyOutputDirectoryIsStoredAndServed() {
    // REAPI's DIRECTORY_ONLY output format: a root Directory, no Tree.
    Digest file = server.cas.put(bytes("inside the directory"));
    Directory root =
        Directory.newBuilder()
            .addFiles(FileNode.newBuilder().setName("a.txt").setDigest(file.toProto()))
            .build();
    Digest rootDigest = server.cas.put(root.toByteString());
    ActionResult result =
        storedResult().toBuilder()
            .addOutputDirectories(
                OutputDirectory.newBuilder()
                    .setPath("out/dir")
                    .setRootDirectoryDigest(rootDigest.toProto()))
            .build();

    assertThat(update("", action, result)).isEqualTo(result);
    assertThat(get("", action)).isEqualTo(result);
  }

  @Test
  void anOutputDirectoryWithNoDigestIsNamedByField() {
    ActionResult result =
        storedResult().toBuilder()
            .addOutputDirectories(OutputDirectory.newBuilder().setPath("out/dir"))
            .build();

    assertStatus(
        () -> update("", action, result),
        Status.Code.INVALID_ARGUMENT,
        "action_result.output_directories[0] has neither a tree_digest nor a root_directory_digest");
    server.assertStillServing();
  }

  @Test
  void inlinesSmallOutputsWhenAsked() {
    ActionResult result = storedResult();
    update("", action, result);

    ActionResult inlined =
        server
            .acStub()
            .getActionResult(
                GetActionResultRequest.newBuilder()
                    .setActionDigest(action.toProto())
                    .setInlineStdout(true)
                    .setInlineStderr(true)
                    .addInlineOutputFiles("out/a.txt")
                    .build());

    assertThat(inlined.getStdoutRaw()).isEqualTo(bytes("hello from stdout"));
    assertThat(inlined.getStdoutDigest()).isEqualTo(result.getStdoutDigest());
    assertThat(inlined.getOutputFiles(0).getContents()).isEqualTo(bytes("output file"));
    assertThat(inlined.getStderrRaw()).isEqualTo(ByteString.EMPTY);
    // Without the hints nothing is inlined.
    assertThat(get("", action).getStdoutRaw()).isEmpty();
  }

  @Test
  void readOnlyInstanceRefusesUpdates() {
    ActionResult result = storedResult();
    assertStatus(
        () -> update("readonly", action, result),
        Status.Code.PERMISSION_DENIED,
        "\"readonly\"",
        "actionCacheUpdates");
    // Reads still work there.
    update("", action, result);
    assertThat(get("readonly", action)).isEqualTo(result);
  }

  @Test
  void instanceWithoutActionCacheIsUnimplemented() {
    assertStatus(
        () -> get("cas-only", action),
        Status.Code.UNIMPLEMENTED,
        "\"cas-only\" has no action cache");
    assertStatus(
        () -> update("cas-only", action, storedResult()),
        Status.Code.UNIMPLEMENTED,
        "no action cache");
  }

  @Test
  void unknownInstanceIsInvalidArgument() {
    assertStatus(
        () -> get("elsewhere", action),
        Status.Code.INVALID_ARGUMENT,
        "unknown instance name \"elsewhere\"");
    server.assertStillServing();
  }
}
