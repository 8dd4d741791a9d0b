package build.hearth.examples.run;

import build.bazel.remote.execution.v2.Action;
import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.Command;
import build.bazel.remote.execution.v2.ExecuteResponse;
import build.hearth.api.ContentAddressableStorage;
import build.hearth.api.Digest;
import build.hearth.core.Hearth;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The smallest program that embeds Hearth: uploads a local directory, runs a command on it as a
 * remote-execution action in this process, and prints what the command printed.
 *
 * <pre>
 * java -jar target/run-in-directory.jar DIRECTORY COMMAND [ARGUMENT...]
 * </pre>
 */
public final class RunInDirectory {
  private RunInDirectory() {}

  public static void main(String[] args) throws IOException {
    if (args.length < 2) {
      System.err.println("usage: java -jar run-in-directory.jar DIRECTORY COMMAND [ARGUMENT...]");
      System.exit(2);
    }
    Path directory = Path.of(args[0]);
    Path work = Files.createTempDirectory("run-in-directory-");
    int exitCode;
    try (Hearth hearth = Hearth.newBuilder().localExecution(work).workerSlots(1).build()) {
      ContentAddressableStorage cas = hearth.cas();
      // 1. The inputs: the directory as a Merkle tree, and the command, both in the CAS.
      Digest inputs = cas.putDirectory(directory);
      Command command =
          Command.newBuilder().addAllArguments(Arrays.asList(args).subList(1, args.length)).build();
      Digest action =
          cas.putMessage(
              Action.newBuilder()
                  .setCommandDigest(cas.putMessage(command).toProto())
                  .setInputRootDigest(inputs.toProto())
                  .build());
      // 2. Run it: the local worker makes an exec root from the tree and runs the command there.
      ExecuteResponse response = hearth.execution().execute(action).result().join();
      if (response.getStatus().getCode() != 0) {
        System.err.println("the action failed: " + response.getStatus().getMessage());
        System.exit(1);
      }
      // 3. Print its output, which the action result names by digest.
      ActionResult result = response.getResult();
      System.out.print(cas.get(result.getStdoutDigest()).toStringUtf8());
      System.err.print(cas.get(result.getStderrDigest()).toStringUtf8());
      exitCode = result.getExitCode();
    }
    System.exit(exitCode);
  }
}
