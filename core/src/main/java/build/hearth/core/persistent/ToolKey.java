package build.hearth.core.persistent;

import build.hearth.api.ToolProtocol;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Which actions may share a persistent worker process: the client's {@code persistentWorkerKey}
 * together with everything the worker derives itself, so that a process only ever serves actions
 * that would have started exactly the same process. A changed tool file, startup argument,
 * environment variable, protocol or multiplex setting gives another key, and never reaches an old
 * process.
 *
 * @param clientKey the {@code persistentWorkerKey} platform property, as the client sent it
 * @param tool the {@code persistentWorkerTool} platform property, or {@code ""}
 * @param startupArguments the command that starts the process, {@code --persistent_worker} last;
 *     the program as the action names it (relative to the process's directory, or absolute)
 * @param environment exactly the environment the process gets
 * @param protocol how requests and responses are framed
 * @param multiplex whether one process serves several requests at once
 * @param cancellable whether the tool answers {@code cancel=true} requests; when not, cancelling a
 *     request kills its process
 * @param toolDigests the tool files (path relative to the process's directory, to the hex digest
 *     and size as {@code hash/size}), sorted by path
 */
public record ToolKey(
    String clientKey,
    String tool,
    List<String> startupArguments,
    Map<String, String> environment,
    ToolProtocol protocol,
    boolean multiplex,
    boolean cancellable,
    SortedMap<String, String> toolDigests) {

  public ToolKey {
    Objects.requireNonNull(clientKey, "clientKey");
    Objects.requireNonNull(tool, "tool");
    Objects.requireNonNull(protocol, "protocol");
    startupArguments = List.copyOf(startupArguments);
    environment = Map.copyOf(environment);
    toolDigests = java.util.Collections.unmodifiableSortedMap(new TreeMap<>(toolDigests));
    if (startupArguments.isEmpty()) {
      throw new IllegalArgumentException("a persistent worker needs a command to start");
    }
  }

  /**
   * A SHA-256 over every field, as 64 lowercase hex characters: equal keys have equal fingerprints,
   * and keys that differ in anything have different ones. Used to name pools in logs, metrics and
   * directories.
   */
  public String fingerprint() {
    MessageDigest sha;
    try {
      sha = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
    update(sha, "key", clientKey);
    update(sha, "tool", tool);
    for (String argument : startupArguments) {
      update(sha, "arg", argument);
    }
    new TreeMap<>(environment).forEach((name, value) -> update(sha, "env", name + "=" + value));
    update(sha, "protocol", protocol.label());
    update(sha, "multiplex", Boolean.toString(multiplex));
    update(sha, "cancellable", Boolean.toString(cancellable));
    toolDigests.forEach((path, digest) -> update(sha, "toolfile", path + "=" + digest));
    return HexFormat.of().formatHex(sha.digest());
  }

  /** The first 12 characters of the fingerprint, for log lines and directory names. */
  public String shortFingerprint() {
    return fingerprint().substring(0, 12);
  }

  /** Whether {@code other} is this key with other tool files: the same tool, changed. */
  public boolean isToolChangeOf(ToolKey other) {
    return clientKey.equals(other.clientKey)
        && tool.equals(other.tool)
        && startupArguments.equals(other.startupArguments)
        && !toolDigests.equals(other.toolDigests);
  }

  private static void update(MessageDigest sha, String label, String value) {
    // Length-prefixed, so that no two different field lists hash the same bytes.
    byte[] bytes = (label + ":" + value).getBytes(StandardCharsets.UTF_8);
    sha.update(
        new byte[] {
          (byte) (bytes.length >>> 24), (byte) (bytes.length >>> 16),
          (byte) (bytes.length >>> 8), (byte) bytes.length
        });
    sha.update(bytes);
  }

  @Override
  public String toString() {
    return "ToolKey{"
        + clientKey
        + (tool.isEmpty() ? "" : ", tool=" + tool)
        + ", "
        + shortFingerprint()
        + "}";
  }
}
