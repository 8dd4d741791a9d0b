package build.hearth.benchmarks;

import build.bazel.remote.execution.v2.Action;
import build.bazel.remote.execution.v2.Command;
import build.bazel.remote.execution.v2.Directory;
import build.hearth.api.Digest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The actions of one Execute run, all made (and uploaded by the caller) before anything is timed:
 * {@code /bin/true} with an argument of its own, so that no two actions share a digest. The
 * execution service merges an Execute onto a running execution of the same action, so identical
 * actions at concurrency 32 would share one process and the run would measure the merging, not the
 * execution. The command ignores its argument; the environment is {@code PATH=/bin:/usr/bin}, the
 * input root the empty directory.
 *
 * <p>Immutable and thread-safe.
 */
final class TrivialActions {
  static final String PROGRAM = "/bin/true";
  static final String PATH = "/bin:/usr/bin";

  private final List<Digest> actions;
  private final Map<Digest, byte[]> blobs;

  private TrivialActions(List<Digest> actions, Map<Digest, byte[]> blobs) {
    this.actions = List.copyOf(actions);
    this.blobs = blobs;
  }

  /**
   * {@code count} distinct actions; with {@code doNotCache} each says so, and its result is neither
   * written to the action cache nor merged with another execution.
   */
  static TrivialActions create(int count, boolean doNotCache) {
    if (count < 1) {
      throw new IllegalArgumentException("count must be at least 1, got " + count);
    }
    Map<Digest, byte[]> blobs = new LinkedHashMap<>();
    byte[] emptyDirectory = Directory.getDefaultInstance().toByteArray();
    Digest inputRoot = Digest.of(emptyDirectory);
    blobs.put(inputRoot, emptyDirectory);
    List<Digest> actions = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      byte[] command =
          Command.newBuilder()
              .addArguments(PROGRAM)
              .addArguments("action-" + i)
              .addEnvironmentVariables(
                  Command.EnvironmentVariable.newBuilder().setName("PATH").setValue(PATH))
              .build()
              .toByteArray();
      Digest commandDigest = Digest.of(command);
      byte[] action =
          Action.newBuilder()
              .setCommandDigest(commandDigest.toProto())
              .setInputRootDigest(inputRoot.toProto())
              .setDoNotCache(doNotCache)
              .build()
              .toByteArray();
      Digest actionDigest = Digest.of(action);
      blobs.put(commandDigest, command);
      blobs.put(actionDigest, action);
      actions.add(actionDigest);
    }
    return new TrivialActions(actions, blobs);
  }

  int size() {
    return actions.size();
  }

  /** The digest of action {@code index}, counted from 0. */
  Digest action(int index) {
    return actions.get(index);
  }

  /** Every blob the actions need in the CAS: commands, actions and the empty input root. */
  Map<Digest, byte[]> blobs() {
    return Collections.unmodifiableMap(blobs);
  }
}
