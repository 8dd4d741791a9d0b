package build.hearth.core.execroot;

import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.Command;
import build.hearth.api.ContentAddressableStorage;
import build.hearth.api.HearthException;
import build.hearth.core.internal.DirectoryTrees;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SecureDirectoryStream;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.UserPrincipal;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One action's exec root: a private directory holding its materialized input tree, where the
 * command runs and leaves its outputs. Made by {@link ExecRoots#prepare}; {@link #close()} deletes
 * it with everything the action put there.
 *
 * <pre>{@code
 * try (ExecRoot root = execRoots.prepare(inputRootDigest)) {
 *   root.createOutputDirectories(command);
 *   ... run command.getArgumentsList() in root.workingDirectory(command) ...
 *   root.collectOutputs(command, cas, result);
 * }
 * }</pre>
 *
 * <p>Not thread-safe: it belongs to one action. Errors are {@link HearthException}s as listed.
 */
public final class ExecRoot implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ExecRoot.class);

  private final Path path;
  private final boolean owned;
  // The shared files the inputs link to, checked at close; null for a root not made by prepare.
  private final LinkedInputs linked;
  private final AtomicBoolean closed = new AtomicBoolean();
  private volatile boolean handedOver;
  private volatile PrepareTimes prepareTimes = PrepareTimes.NONE;

  ExecRoot(Path path, LinkedInputs linked) {
    this(path, true, linked);
  }

  private ExecRoot(Path path, boolean owned, LinkedInputs linked) {
    this.path = path;
    this.owned = owned;
    this.linked = linked;
  }

  /**
   * Makes every directory of this exec root owned by {@code user} and {@code group}, so that an
   * action running as that user can create its outputs anywhere in the tree, while the input files,
   * owned by the worker and read-only, stay out of its reach: it can neither write nor {@code
   * chmod} them, so the local cache they are linked from needs no check when the root is closed.
   * Call it after {@link #createOutputDirectories}, as root (only root may give files away).
   *
   * <p>Directories are opened one by one relative to their parent's handle, never through a
   * symlink, so a symlink in the tree (an input, or one a tool process made in a persistent
   * directory) never leads the walk out of it. Files and symlinks keep their owner.
   *
   * @throws HearthException INTERNAL if a directory cannot be handed over (the message names the
   *     exec root, the user and the cause)
   */
  public void handOver(UserPrincipal user, GroupPrincipal group) {
    Objects.requireNonNull(user, "user");
    Objects.requireNonNull(group, "group");
    try (DirectoryStream<Path> stream = Files.newDirectoryStream(path)) {
      if (!(stream instanceof SecureDirectoryStream<Path> secure)) {
        throw HearthException.internal(
            "cannot hand the exec root "
                + path
                + " over safely: this file system has no directory handles (openat) to walk it"
                + " without following symlinks",
            null);
      }
      handOver(secure, path, user, group);
    } catch (IOException e) {
      throw HearthException.internal(
          "cannot hand the exec root "
              + path
              + " over to "
              + user.getName()
              + ":"
              + group.getName()
              + ": "
              + e,
          e);
    }
    handedOver = true;
  }

  /**
   * Chowns the directory open as {@code dir} (through its handle) and every directory below it,
   * each opened relative to its parent's handle without following a symlink: a directory swapped
   * for a symlink meanwhile fails the walk rather than leading it out of the tree.
   */
  private static void handOver(
      SecureDirectoryStream<Path> dir, Path where, UserPrincipal user, GroupPrincipal group)
      throws IOException {
    try {
      PosixFileAttributeView own = dir.getFileAttributeView(PosixFileAttributeView.class);
      own.setOwner(user);
      own.setGroup(group);
    } catch (IOException e) {
      throw new IOException("cannot change the owner of " + where + ": " + e, e);
    }
    for (Path entry : dir) {
      Path name = entry.getFileName();
      SecureDirectoryStream<Path> child;
      try {
        BasicFileAttributes attributes =
            dir.getFileAttributeView(name, BasicFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
                .readAttributes();
        if (!attributes.isDirectory()) {
          continue;
        }
        child = dir.newDirectoryStream(name, LinkOption.NOFOLLOW_LINKS);
      } catch (IOException e) {
        throw new IOException("cannot open " + where.resolve(name) + ": " + e, e);
      }
      try (child) {
        handOver(child, where.resolve(name), user, group);
      }
    }
  }

  /** The shared files this root's inputs link to; null for a root not made by prepare. */
  LinkedInputs linkedInputs() {
    return linked;
  }

  /** Whether {@link #handOver} has given the tree to an action user. */
  boolean handedOver() {
    return handedOver;
  }

  /**
   * An exec root over a directory that outlives the action, such as a persistent worker's, brought
   * in line with the action's inputs by {@link ExecRoots#sync}: it lays out and collects outputs
   * like any other, but {@link #close()} leaves the directory as it is.
   *
   * @param directory an existing directory, as an absolute real path
   */
  public static ExecRoot existing(Path directory) {
    return new ExecRoot(directory, false, null);
  }

  /**
   * An exec root over a directory made by {@link ExecRoots#sync} for one action alone, such as a
   * multiplex request's sandbox: {@link #close()} deletes it like an exec root from {@link
   * ExecRoots#prepare}.
   *
   * @param directory an existing directory, as an absolute real path
   */
  public static ExecRoot adopt(Path directory) {
    return new ExecRoot(directory, true, null);
  }

  /** How long {@link ExecRoots#prepare} took to make this root, by step; zeros for the others. */
  public PrepareTimes prepareTimes() {
    return prepareTimes;
  }

  void prepareTimes(PrepareTimes times) {
    this.prepareTimes = times;
  }

  /** The exec root directory, an absolute real path. */
  public Path path() {
    return path;
  }

  /**
   * Where {@code command} runs: its {@code working_directory} inside the exec root.
   *
   * @throws HearthException INVALID_ARGUMENT if the working directory is absolute, malformed or
   *     leaves the exec root
   */
  public Path workingDirectory(Command command) {
    return resolve(OutputCollector.workingDirectory(command));
  }

  /**
   * Creates the working directory and the directories leading to each output path (not the outputs
   * themselves), as REAPI asks of a worker before the command runs. Nothing is created through a
   * symlink.
   *
   * @throws HearthException INVALID_ARGUMENT for a malformed output path or working directory, or
   *     one that has to pass through a file or a symlink of the input tree
   */
  public void createOutputDirectories(Command command) {
    List<String> workingDirectory = OutputCollector.workingDirectory(command);
    List<List<String>> outputs = OutputCollector.outputPaths(command);
    createDirectories(workingDirectory, workingDirectory.size());
    for (List<String> output : outputs) {
      createDirectories(output, output.size() - 1);
    }
  }

  private void createDirectories(List<String> components, int count) {
    Path dir = path;
    for (int i = 0; i < count; i++) {
      dir = dir.resolve(components.get(i));
      try {
        BasicFileAttributes attributes = FileTrees.attributesOrNull(dir);
        if (attributes == null) {
          try {
            Files.createDirectory(dir);
          } catch (FileAlreadyExistsException e) {
            attributes = FileTrees.attributesOrNull(dir);
          }
        }
        if (attributes != null && !attributes.isDirectory()) {
          throw HearthException.invalidArgument(
              "'%s' is a %s in the input tree, but an output or the working directory lies"
                  + " below it",
              RelativePaths.join(components.subList(0, i + 1)),
              attributes.isSymbolicLink() ? "symlink" : "file");
        }
      } catch (IOException e) {
        throw FileTrees.failure("create the directory", dir, e);
      }
    }
  }

  /**
   * Uploads the outputs {@code command} names to {@code cas} and adds them to {@code result}:
   * regular files as {@code output_files}, directories as {@code output_directories} (a {@code
   * Tree}, and the root {@code Directory} when the command's {@code output_directory_format} asks
   * for it), symlinks as {@code output_symlinks} with their target, never followed. {@code
   * output_paths} wins over the older {@code output_files} and {@code output_directories}; for
   * those, symlinks also go to the older symlink fields. Missing outputs are left out, as are
   * outputs behind a directory symlink that leads out of the exec root. Call it after every process
   * of the action has ended.
   *
   * @throws HearthException INVALID_ARGUMENT for a malformed output path, before anything is
   *     uploaded; FAILED_PRECONDITION if an {@code output_files} entry is a directory or an {@code
   *     output_directories} entry a file; INTERNAL or RESOURCE_EXHAUSTED when reading fails; what
   *     {@code cas} throws
   */
  public void collectOutputs(
      Command command, ContentAddressableStorage cas, ActionResult.Builder result) {
    Objects.requireNonNull(cas, "cas");
    Objects.requireNonNull(result, "result");
    new OutputCollector(path, cas).collect(command, result);
  }

  /**
   * Deletes the exec root and everything in it, without following symlinks, after restoring the
   * owner's permissions on read-only directories. A failure is logged, not thrown: the leftovers go
   * when the work directory is next opened. Does nothing for an {@link #existing} directory.
   * Idempotent.
   *
   * <p>Before that, an exec root made by {@link ExecRoots#prepare} and not {@link #handOver handed
   * over} checks the cached files and executable copies its inputs link to, one {@code lstat} each,
   * and removes any the action changed through its link, with a WARN naming the input and the
   * digest, so that the next action fetches good bytes. Call it after every process of the action
   * has ended.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true) || !owned) {
      return;
    }
    if (linked != null && !handedOver) {
      linked.check();
    }
    try {
      DirectoryTrees.delete(path);
    } catch (IOException | RuntimeException e) {
      log.warn(
          "Cannot delete the exec root {}; it is removed at the next start: {}",
          path,
          e.toString());
    }
  }

  private Path resolve(List<String> components) {
    return components.isEmpty() ? path : path.resolve(RelativePaths.join(components));
  }

  @Override
  public String toString() {
    return "ExecRoot{" + path + "}";
  }
}
