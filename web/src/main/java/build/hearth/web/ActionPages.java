package build.hearth.web;

import build.bazel.remote.execution.v2.Action;
import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.Command;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.DirectoryNode;
import build.bazel.remote.execution.v2.ExecutedActionMetadata;
import build.bazel.remote.execution.v2.FileNode;
import build.bazel.remote.execution.v2.OutputDirectory;
import build.bazel.remote.execution.v2.OutputFile;
import build.bazel.remote.execution.v2.SymlinkNode;
import build.bazel.remote.execution.v2.Tree;
import build.hearth.api.ActionCache;
import build.hearth.api.ContentAddressableStorage;
import build.hearth.api.Digest;
import build.hearth.api.HearthException;
import build.hearth.spi.transport.HttpRoutes.Response;
import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Timestamp;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Builds the views of the pages addressed by digest from an instance's CAS, action cache and the
 * recent actions. Every read is bounded: messages read whole up to {@link #MAX_MESSAGE_BYTES}, text
 * shown up to {@link #MAX_TEXT_BYTES}, downloads up to {@link #MAX_RAW_BYTES}.
 */
final class ActionPages {
  /** Action, Command, Directory and Tree blobs larger than this are refused, not parsed. */
  static final long MAX_MESSAGE_BYTES = 4L << 20;

  /** The most bytes of a blob or a log shown as text on a page. */
  static final int MAX_TEXT_BYTES = 256 << 10;

  /** The largest blob offered for download from the page (larger: use a REAPI client). */
  static final long MAX_RAW_BYTES = 16L << 20;

  /** The most directories a tree page lists. */
  static final int MAX_TREE_DIRECTORIES = 500;

  record Instance(ContentAddressableStorage cas, Optional<ActionCache> actionCache) {}

  private final Map<String, Instance> instances;
  private final RecentActions recent;
  private final ActionLinks links;

  ActionPages(Map<String, Instance> instances, RecentActions recent, ActionLinks links) {
    this.instances = Map.copyOf(instances);
    this.recent = recent;
    this.links = links;
  }

  boolean serves(String instance) {
    return instances.containsKey(instance);
  }

  Set<String> instances() {
    return new java.util.TreeSet<>(instances.keySet());
  }

  Views.Action action(String instanceName, Digest digest) {
    Instance instance = instances.get(instanceName);
    Optional<RecordedAction> recorded = recent.find(instanceName, digest);
    Optional<ActionResult> result = recorded.map(r -> r.response().getResult());
    String cached = "not known (not among the recent actions)";
    if (recorded.isPresent()) {
      cached = recorded.get().cached() ? "yes, answered from the action cache" : "no, executed";
    }
    if (instance.actionCache().isPresent() && (result.isEmpty() || recorded.get().succeeded())) {
      Optional<ActionResult> fromCache = instance.actionCache().get().get(digest);
      if (fromCache.isPresent()) {
        result = fromCache; // whole, with the output lists a recorded success leaves out
        if (recorded.isEmpty()) {
          cached = "in the action cache";
        }
      }
    }
    String problem = "";
    Action action = null;
    Command command = null;
    try {
      action = Action.parseFrom(message(instance, digest, "Action"));
      command =
          Command.parseFrom(message(instance, fromProto(action.getCommandDigest()), "Command"));
    } catch (HearthException | InvalidProtocolBufferException e) {
      if (action == null && recorded.isEmpty() && result.isEmpty()) {
        throw HearthException.notFound(
            "no action %s/%d in the CAS, the action cache or the recent actions of instance '%s'",
            digest.hash(), digest.sizeBytes(), instanceName);
      }
      problem = "The action or its command cannot be read: " + e.getMessage();
    }
    List<String> arguments = command == null ? List.of() : command.getArgumentsList();
    List<Views.Pair> environment = new ArrayList<>();
    List<Views.Pair> platform = new ArrayList<>();
    List<String> outputPaths = new ArrayList<>();
    String persistentKey = null;
    if (command != null) {
      command
          .getEnvironmentVariablesList()
          .forEach(v -> environment.add(new Views.Pair(v.getName(), v.getValue())));
      outputPaths.addAll(command.getOutputPathsList());
      if (outputPaths.isEmpty()) {
        outputPaths.addAll(command.getOutputFilesList());
        outputPaths.addAll(command.getOutputDirectoriesList());
      }
    }
    var properties =
        action != null && action.hasPlatform()
            ? action.getPlatform().getPropertiesList()
            : command == null
                ? List.<build.bazel.remote.execution.v2.Platform.Property>of()
                : command.getPlatform().getPropertiesList();
    for (var p : properties) {
      platform.add(new Views.Pair(p.getName(), p.getValue()));
      if (p.getName().equals("persistentWorkerKey")) {
        persistentKey = p.getValue();
      }
    }
    List<Views.Entry> inputs = List.of();
    String inputRootLink = "";
    if (action != null) {
      Digest root = fromProto(action.getInputRootDigest());
      inputRootLink = links.directory(instanceName, root);
      try {
        inputs = entries(instanceName, directory(instance, root));
      } catch (HearthException e) {
        problem += (problem.isEmpty() ? "" : " ") + "The input root: " + e.getMessage();
      }
    }
    List<Views.Entry> outputs = new ArrayList<>();
    List<Views.Log> logs = new ArrayList<>();
    List<Views.Phase> phases = List.of();
    String exitCode = "-";
    String worker = "-";
    if (result.isPresent()) {
      ActionResult r = result.get();
      exitCode = Integer.toString(r.getExitCode());
      worker =
          r.getExecutionMetadata().getWorker().isEmpty()
              ? "-"
              : r.getExecutionMetadata().getWorker();
      for (OutputFile f : r.getOutputFilesList()) {
        Digest d = fromProto(f.getDigest());
        outputs.add(
            new Views.Entry(
                "file",
                f.getPath(),
                Format.bytes(d.sizeBytes()),
                d.toString(),
                links.blob(instanceName, d, f.getPath())));
      }
      for (OutputDirectory o : r.getOutputDirectoriesList()) {
        // A result may name the directory by its Tree, by its root Directory (DIRECTORY_ONLY), or
        // both; the Tree page shows the whole directory at once, so it is preferred.
        boolean byTree = o.hasTreeDigest();
        Digest d = fromProto(byTree ? o.getTreeDigest() : o.getRootDirectoryDigest());
        outputs.add(
            new Views.Entry(
                "directory",
                o.getPath(),
                Format.bytes(d.sizeBytes()),
                d.toString(),
                byTree ? links.tree(instanceName, d) : links.directory(instanceName, d)));
      }
      logs.add(log(instance, instanceName, "stdout", r.getStdoutRaw(), r.getStdoutDigest()));
      logs.add(log(instance, instanceName, "stderr", r.getStderrRaw(), r.getStderrDigest()));
      phases = phases(r.getExecutionMetadata());
    }
    String persistent = "no (a fresh process)";
    if (persistentKey != null) {
      Optional<String> run = result.flatMap(r -> Format.persistentRun(r.getExecutionMetadata()));
      persistent =
          "key "
              + persistentKey
              + ": "
              + run.map(
                      r ->
                          recorded.isPresent() && !recorded.get().cached()
                              ? r
                              : r + " (when the cached result was made)")
                  .orElse("no process reported (run as a fresh process)");
    }
    String outcome =
        recorded
            .map(RecordedAction::outcome)
            .orElse(
                result.isPresent()
                    ? (result.get().getExitCode() == 0
                        ? "ok"
                        : "exit " + result.get().getExitCode())
                    : "not run here recently");
    boolean ok =
        recorded
            .map(RecordedAction::succeeded)
            .orElse(result.map(r -> r.getExitCode() == 0).orElse(true));
    String message = recorded.map(r -> r.response().getMessage()).orElse("");
    if (recorded.isPresent() && recorded.get().response().getStatus().getCode() != 0) {
      String status = recorded.get().response().getStatus().getMessage();
      message = message.isEmpty() ? status : message + "\n" + status;
    }
    return new Views.Action(
        Format.instance(instanceName),
        digest.toString(),
        outcome,
        ok,
        cached,
        exitCode,
        worker,
        persistent,
        message,
        problem,
        arguments,
        environment,
        platform,
        outputPaths,
        command == null ? "" : command.getWorkingDirectory(),
        action != null && action.hasTimeout()
            ? Format.duration(Duration.ofSeconds(action.getTimeout().getSeconds()))
            : "-",
        inputRootLink,
        inputs,
        outputs,
        logs,
        phases);
  }

  private Views.Log log(
      Instance instance,
      String instanceName,
      String name,
      ByteString raw,
      build.bazel.remote.execution.v2.Digest digest) {
    if (!raw.isEmpty()) {
      return new Views.Log(
          name,
          text(raw.substring(0, Math.min(raw.size(), MAX_TEXT_BYTES))),
          "",
          "inline in the result");
    }
    if (digest.getSizeBytes() == 0 && digest.getHash().isEmpty()) {
      return new Views.Log(name, "", "", "empty");
    }
    Digest d = fromProto(digest);
    String link = links.blob(instanceName, d, name);
    try {
      ByteString bytes = head(instance, d, MAX_TEXT_BYTES);
      String text = text(bytes);
      String note =
          d.sizeBytes() > MAX_TEXT_BYTES
              ? "the first " + Format.bytes(MAX_TEXT_BYTES) + " of " + Format.bytes(d.sizeBytes())
              : Format.bytes(d.sizeBytes());
      return new Views.Log(
          name, text == null ? "" : text, link, text == null ? "binary, " + note : note);
    } catch (HearthException e) {
      return new Views.Log(name, "", "", "not readable: " + e.getMessage());
    }
  }

  private static List<Views.Phase> phases(ExecutedActionMetadata m) {
    Timestamp[][] spans = {
      {m.getQueuedTimestamp(), m.getWorkerStartTimestamp()},
      {m.getInputFetchStartTimestamp(), m.getInputFetchCompletedTimestamp()},
      {m.getExecutionStartTimestamp(), m.getExecutionCompletedTimestamp()},
      {m.getOutputUploadStartTimestamp(), m.getOutputUploadCompletedTimestamp()},
    };
    String[] names = {"queued", "input fetch", "execution", "output upload"};
    Timestamp first =
        Format.isSet(m.getQueuedTimestamp()) ? m.getQueuedTimestamp() : m.getWorkerStartTimestamp();
    Timestamp last = m.getWorkerCompletedTimestamp();
    if (!Format.isSet(first) || !Format.isSet(last)) {
      return List.of();
    }
    long total = Math.max(1, nanos(first, last));
    List<Views.Phase> phases = new ArrayList<>();
    for (int i = 0; i < spans.length; i++) {
      if (!Format.isSet(spans[i][0]) || !Format.isSet(spans[i][1])) {
        continue;
      }
      long start = Math.max(0, nanos(first, spans[i][0]));
      long length = Math.max(0, nanos(spans[i][0], spans[i][1]));
      phases.add(
          new Views.Phase(
              names[i],
              percent(start, total),
              percent(Math.max(length, total / 200), total),
              Format.between(spans[i][0], spans[i][1])));
    }
    return phases;
  }

  private static long nanos(Timestamp from, Timestamp to) {
    return Duration.between(Format.instant(from), Format.instant(to)).toNanos();
  }

  private static String percent(long part, long total) {
    return String.format(java.util.Locale.ROOT, "%.2f%%", Math.min(100.0, 100.0 * part / total));
  }

  Views.Blob blob(String instanceName, Digest digest, String name) {
    Instance instance = instances.get(instanceName);
    ByteString head = head(instance, digest, MAX_TEXT_BYTES);
    String text = text(head);
    String note;
    if (text == null) {
      note = "binary (" + Format.bytes(digest.sizeBytes()) + "): not shown";
    } else if (digest.sizeBytes() > MAX_TEXT_BYTES) {
      note =
          "text, the first "
              + Format.bytes(MAX_TEXT_BYTES)
              + " of "
              + Format.bytes(digest.sizeBytes());
    } else {
      note = "text, " + Format.bytes(digest.sizeBytes());
    }
    String raw = digest.sizeBytes() <= MAX_RAW_BYTES ? links.raw(instanceName, digest) : "";
    return new Views.Blob(
        Format.instance(instanceName),
        digest.toString(),
        name == null ? "" : name,
        text == null ? "" : text,
        note,
        raw);
  }

  Response raw(String instanceName, Digest digest) {
    if (digest.sizeBytes() > MAX_RAW_BYTES) {
      throw HearthException.outOfRange(
          "blob %s is %d bytes; the page downloads at most %d: fetch it with a REAPI client",
          digest, digest.sizeBytes(), MAX_RAW_BYTES);
    }
    ByteString bytes = instances.get(instanceName).cas().get(digest);
    return new Response(200, "application/octet-stream", bytes.toByteArray());
  }

  Views.Directory directory(String instanceName, Digest digest) {
    Directory directory = directory(instances.get(instanceName), digest);
    return new Views.Directory(
        Format.instance(instanceName),
        digest.toString(),
        "Directory",
        entries(instanceName, directory));
  }

  Views.Tree tree(String instanceName, Digest digest) {
    Tree tree;
    try {
      tree = Tree.parseFrom(message(instances.get(instanceName), digest, "Tree"));
    } catch (InvalidProtocolBufferException e) {
      throw HearthException.invalidArgument("blob %s is not a Tree: %s", digest, e.getMessage());
    }
    List<Views.Directory> directories = new ArrayList<>();
    directories.add(
        new Views.Directory(
            "",
            Digest.of(tree.getRoot().toByteString()).toString(),
            "root",
            entries(instanceName, tree.getRoot())));
    for (Directory child : tree.getChildrenList()) {
      if (directories.size() >= MAX_TREE_DIRECTORIES) {
        break;
      }
      directories.add(
          new Views.Directory(
              "",
              Digest.of(child.toByteString()).toString(),
              "child",
              entries(instanceName, child)));
    }
    int total = 1 + tree.getChildrenCount();
    String note =
        total > directories.size()
            ? "the first " + directories.size() + " of " + total + " directories"
            : total + " directories";
    return new Views.Tree(Format.instance(instanceName), digest.toString(), directories, note);
  }

  private List<Views.Entry> entries(String instanceName, Directory directory) {
    List<Views.Entry> entries = new ArrayList<>();
    for (DirectoryNode d : directory.getDirectoriesList()) {
      Digest digest = fromProto(d.getDigest());
      entries.add(
          new Views.Entry(
              "directory",
              d.getName() + "/",
              "",
              digest.toString(),
              links.directory(instanceName, digest)));
    }
    for (FileNode f : directory.getFilesList()) {
      Digest digest = fromProto(f.getDigest());
      entries.add(
          new Views.Entry(
              f.getIsExecutable() ? "executable" : "file",
              f.getName(),
              Format.bytes(digest.sizeBytes()),
              digest.toString(),
              links.blob(instanceName, digest, f.getName())));
    }
    for (SymlinkNode s : directory.getSymlinksList()) {
      entries.add(new Views.Entry("symlink", s.getName() + " -> " + s.getTarget(), "", "", ""));
    }
    return entries;
  }

  private Directory directory(Instance instance, Digest digest) {
    try {
      return Directory.parseFrom(message(instance, digest, "Directory"));
    } catch (InvalidProtocolBufferException e) {
      throw HearthException.invalidArgument(
          "blob %s is not a Directory: %s", digest, e.getMessage());
    }
  }

  private static ByteString message(Instance instance, Digest digest, String what) {
    if (digest.sizeBytes() > MAX_MESSAGE_BYTES) {
      throw HearthException.outOfRange(
          "the %s %s is %d bytes; the pages read at most %d",
          what, digest, digest.sizeBytes(), MAX_MESSAGE_BYTES);
    }
    return instance.cas().get(digest);
  }

  private static ByteString head(Instance instance, Digest digest, int max) {
    if (digest.sizeBytes() == 0) {
      return ByteString.EMPTY;
    }
    try (InputStream in = instance.cas().read(digest, 0, Math.min(max, digest.sizeBytes()))) {
      return ByteString.readFrom(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The bytes as text if they are UTF-8 without NUL bytes (a cut last character allowed). */
  static String text(ByteString bytes) {
    for (int i = 0; i < bytes.size(); i++) {
      if (bytes.byteAt(i) == 0) {
        return null;
      }
    }
    for (int drop = 0; drop < 4 && drop <= bytes.size(); drop++) {
      try {
        return StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT)
            .decode(bytes.substring(0, bytes.size() - drop).asReadOnlyByteBuffer())
            .toString();
      } catch (CharacterCodingException e) {
        if (bytes.size() < MAX_TEXT_BYTES) {
          return null; // a whole blob that is not UTF-8
        }
      }
    }
    return null;
  }

  private static Digest fromProto(build.bazel.remote.execution.v2.Digest digest) {
    return Digest.fromProto(digest);
  }
}
